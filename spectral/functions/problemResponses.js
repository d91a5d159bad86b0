// Every secured operation documents its 4xx answers as RFC 9457 problem+json (with a schema),
// including 401 and 403; public operations (`security: []`, e.g. health) are exempt.
const PROBLEM = 'application/problem+json';

export default function problemResponses(operation, _options, context) {
  const at = (rest) => [...context.path, ...rest];
  if (operation === null || typeof operation !== 'object') return [];
  if (Array.isArray(operation.security) && operation.security.length === 0) return [];
  const responses = operation.responses || {};
  const fours = Object.keys(responses).filter((status) => /^4(\d\d|XX)$/.test(status));
  const results = [];
  if (fours.length === 0) {
    return [{ message: 'documents no 4xx problem+json response', path: at(['responses']) }];
  }
  for (const status of ['401', '403']) {
    if (!fours.includes(status)) results.push({ message: `does not document ${status}`, path: at(['responses']) });
  }
  for (const status of fours) {
    const content = (responses[status] || {}).content || {};
    if (!content[PROBLEM] || !content[PROBLEM].schema) {
      results.push({ message: `${status} is not documented as ${PROBLEM} with a schema`,
        path: at(['responses', status]) });
    }
    for (const media of Object.keys(content)) {
      if (media !== PROBLEM) {
        results.push({ message: `${status} also claims ${media}; errors are only ${PROBLEM}`,
          path: at(['responses', status, 'content', media]) });
      }
    }
  }
  return results;
}
