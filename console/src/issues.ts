/** Where the API's validation issues (400, `issues: [{ path, message }]`) are shown in the definition editor. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** The issues of a 400 answer, split by where they are shown. */
export function placeIssues(issues: readonly Issue[]): { id: Issue[]; name: Issue[]; body: Issue[] } {
  const at = (i: Issue, f: string) => i.path === f || i.path.startsWith(`${f}.`) || i.path.startsWith(`${f}[`);
  return {
    id: issues.filter((i) => at(i, 'id')),
    name: issues.filter((i) => at(i, 'name')),
    body: issues.filter((i) => !at(i, 'id') && !at(i, 'name')),
  };
}
