// Where each rule's page (docs/rules/<id>.md in the repository) is published: deny messages and SARIF
// link it.
export const RULE_DOCS_BASE = 'https://github.com/hitless-dev/hitless/blob/main/docs/rules/'

export function ruleDocsUrl(ruleId: string): string {
  return `${RULE_DOCS_BASE}${ruleId}.md`
}
