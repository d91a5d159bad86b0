// A typed client for the Disbursement Monitor API, built only from the generated `schema.d.ts`
// (openapi-typescript over openapi.json), and the main flows a frontend or the Treasury would call.
// `tsc --noEmit` checks it against the published document: renaming a field or an operation breaks it.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
type Method = "get" | "post" | "patch" | "put" | "delete";
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Parameters_<O> = O extends { parameters: infer X } ? X : never;
type PathParams<O> = Parameters_<O> extends { path: infer X } ? X : never;
type QueryParams<O> = Parameters_<O> extends { query?: infer X } ? X : never;
type HeaderParams<O> = Parameters_<O> extends { header?: infer X } ? X : never;
type JsonBody<O> = O extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type Responses<O> = O extends { responses: infer R } ? R : never;
type JsonOf<R> = R extends { content: { "application/json": infer J } } ? J : never;
/** The JSON of the operation's 2xx answers. */
export type Success<O> = { [S in keyof Responses<O>]: S extends 200 | 201 ? JsonOf<Responses<O>[S]> : never }[
  keyof Responses<O>];

export type Result<T> = { ok: true; status: number; data: T; replayed: boolean } |
  { ok: false; status: number; problem: Problem };

export interface RequestOptions<O> {
  path?: PathParams<O>;
  query?: QueryParams<O>;
  headers?: HeaderParams<O>;
  body?: JsonBody<O>;
}

export class DisbursementMonitor {
  constructor(private readonly baseUrl: string, private readonly apiKey: string,
              private readonly fetchImpl: typeof fetch = fetch) {}

  async call<P extends keyof paths, M extends Method>(
    method: M, path: P, options: RequestOptions<Operation<P, M>> = {},
  ): Promise<Result<Success<Operation<P, M>>>> {
    let url = String(path).replace(/\{(\w+)\}/g, (_, name: string) =>
      encodeURIComponent(String((options.path as Record<string, unknown> | undefined)?.[name])));
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries((options.query ?? {}) as Record<string, unknown>)) {
      if (value === undefined || value === null) continue;
      for (const item of Array.isArray(value) ? value : [value]) query.append(name, String(item));
    }
    const search = query.toString();
    if (search) url += `?${search}`;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.apiKey}`, Accept: "application/json" };
    for (const [name, value] of Object.entries((options.headers ?? {}) as Record<string, unknown>)) {
      if (value !== undefined && value !== null) headers[name] = String(value);
    }
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const response = await this.fetchImpl(this.baseUrl + url, { method: method.toUpperCase(), headers, body });
    if (!response.ok) return { ok: false, status: response.status, problem: (await response.json()) as Problem };
    const data = (response.status === 204 ? undefined : await response.json()) as Success<Operation<P, M>>;
    const replayed = response.headers.get("Idempotency-Replayed") === "true";
    return { ok: true, status: response.status, data, replayed };
  }
}

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.status} ${result.problem.code}: ${result.problem.detail}`);
  return result.data;
}

/** List every project of an investor, page by page (opaque `page_token`). */
export async function allProjects(api: DisbursementMonitor, investorId: number): Promise<Schemas["ProjectOut"][]> {
  const projects: Schemas["ProjectOut"][] = [];
  let pageToken: string | null | undefined;
  do {
    const page = unwrap(await api.call("get", "/api/v1/projects", {
      query: { investor_id: investorId, page_size: 500, page_token: pageToken ?? undefined } }));
    projects.push(...page.items);
    pageToken = page.next_page_token;
  } while (pageToken);
  return projects;
}

/** Record a capital-plan decision, then a payment under it; retry-safe with one Idempotency-Key. */
export async function allocateAndPay(api: DisbursementMonitor, projectId: number): Promise<number> {
  const url = "/api/v1/projects/{project_id}/allocations";
  const allocation: Schemas["AllocationOut"] = unwrap(await api.call("post", url, {
    path: { project_id: projectId },
    headers: { "Idempotency-Key": `alloc-${projectId}-2145` },
    body: { plan_year: 2024, capital_source: "local_balanced", budget_level: "province", kind: "supplement",
            amount_vnd: 25_000_000_000, added_vnd: 25_000_000_000, tranche: 3, decision_number: "2145/QĐ-UBND",
            decision_date: "2024-10-08", authority: "UBND tỉnh Vĩnh Phúc" },
  }));
  const payment: Schemas["DisbursementCreate"] = {
    plan_year: allocation.plan_year, capital_source: allocation.capital_source, budget_level: allocation.budget_level,
    kind: "payment", amount_vnd: 3_200_000_000, advance_recovered_vnd: 0, value_date: "2024-10-10",
    document_number: "KB-VP-2024-018734", completes_supply: false,
  };
  const key = `pay-${projectId}-KB-VP-2024-018734`;
  for (let attempt = 0; ; attempt++) {
    const result = await api.call("post", "/api/v1/projects/{project_id}/disbursements", {
      path: { project_id: projectId }, headers: { "Idempotency-Key": key }, body: payment });
    if (result.ok) return result.data.id;  // a replay returns the first answer
    if (result.problem.code === "plan_cap_exceeded") {
      throw new Error(`only ${String(result.problem["remaining_vnd"])} đồng remain in the plan`);
    }
    if (result.problem.code !== "idempotency_in_flight" || attempt >= 3) throw new Error(result.problem.detail);
  }
}

/** Plan, disbursed and remaining per pool, as known on a past day (reproduces a report). */
export async function remainingByPool(api: DisbursementMonitor, projectId: number, asOf: string): Promise<number> {
  const balances = unwrap(await api.call("get", "/api/v1/projects/{project_id}/balances", {
    path: { project_id: projectId }, query: { as_of: asOf, known_on: asOf } }));
  return balances.pools.reduce((sum: number, pool: Schemas["PoolBalanceOut"]) => sum + pool.remaining_vnd, 0);
}

/** Poll the change feed from a stored position; never misses or repeats an event. */
export async function pollEvents(api: DisbursementMonitor, after: number,
                                 handle: (event: Schemas["EventOut"]) => void): Promise<number> {
  let position = after;
  for (;;) {
    const page = unwrap(await api.call("get", "/api/v1/events", { query: { after: position, page_size: 1000 } }));
    page.items.forEach(handle);
    if (page.next_after === position) return position;
    position = page.next_after;
  }
}
