// A list operation (a 200 JSON answer with `items` and `next_page_token`) declares the `page_token`
// and `page_size` query parameters.
export default function listPageToken(operation, _options, context) {
  const at = (rest) => [...context.path, ...rest];
  if (operation === null || typeof operation !== 'object') return [];
  const ok = ((operation.responses || {})['200'] || {}).content || {};
  const schema = (ok['application/json'] || {}).schema || {};
  const props = schema.properties || {};
  if (!props.items || !props.next_page_token) return [];
  const query = new Set((operation.parameters || []).filter((p) => p && p.in === 'query').map((p) => p.name));
  return ['page_token', 'page_size'].filter((name) => !query.has(name)).map((name) => ({
    message: `list operation does not declare the \`${name}\` query parameter`, path: at(['parameters']),
  }));
}
