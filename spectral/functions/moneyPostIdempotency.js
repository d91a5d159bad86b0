// A money POST declares the Idempotency-Key header. A POST is a money POST when its operation says
// `x-money-post: true`, or when its JSON request body has a field ending in `_vnd` (at any depth,
// e.g. batch rows) and it does not opt out with `x-money-post: false`.
function hasMoneyField(schema, seen) {
  if (schema === null || typeof schema !== 'object' || seen.has(schema)) return false;
  seen.add(schema);
  for (const name of Object.keys(schema.properties || {})) {
    if (name.endsWith('_vnd')) return true;
  }
  const children = [
    ...Object.values(schema.properties || {}), schema.items, schema.additionalProperties,
    ...(schema.allOf || []), ...(schema.anyOf || []), ...(schema.oneOf || []),
  ];
  return children.some((child) => hasMoneyField(child, seen));
}

export default function moneyPostIdempotency(operation, _options, context) {
  const at = (rest) => [...context.path, ...rest];
  if (operation === null || typeof operation !== 'object') return [];
  const flag = operation['x-money-post'];
  if (flag === false) return [];
  const content = ((operation.requestBody || {}).content || {})['application/json'] || {};
  if (flag !== true && !hasMoneyField(content.schema, new Set())) return [];
  const declared = (operation.parameters || []).some(
    (p) => p && p.in === 'header' && String(p.name).toLowerCase() === 'idempotency-key');
  if (declared) return [];
  return [{
    message: 'money POST (a `_vnd` field in its body) does not declare the Idempotency-Key header; '
      + 'add IdempotencyDep, or `x-money-post: false` if it records no money',
    path: at([]),
  }];
}
