// Custom integrations: find one by name through the paged list (type=custom only), check
// an id's type, create one when asked (never blindly twice), and read how many resources
// an integration's catalog holds (the server-side stale guard). Spec: docs/upload.md
// ("The API as modelled"), from Secoda's published API reference.

import { SecodaError } from '../errors.js'
import { httpStatusOf, type SecodaClient } from './http.js'

/** An integration as the list endpoint returns it (fields beyond these are kept as-is). */
export interface Integration {
  id: string
  name: string
  type?: string
  [k: string]: unknown
}

interface Page {
  results?: Integration[]
  links?: { next?: unknown }
  next?: unknown
  meta?: { page?: unknown; next_page?: unknown }
  count?: number
  total_pages?: unknown
}

const LIST_PATH = '/integration/integrations/'
/** Guard against a server whose `next` links loop. */
const MAX_PAGES = 10_000

/** A page number from a JSON value (number or numeric string), else undefined. */
function pageNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN
  return Number.isInteger(n) && n >= 1 ? n : undefined
}

/**
 * The next page to read, or undefined at the end. meta.next_page and total_pages are
 * unambiguous and win; links.next counts only when it is an http(s) URL — Secoda's
 * documented example writes a missing link as the string "None", so null, "", "None" or
 * anything that is not a URL ends the list.
 */
export function nextPage(page: Page, current: number, firstPath: string): string | undefined {
  const withPage = (n: number): string => `${firstPath}${firstPath.includes('?') ? '&' : '?'}page=${n}`
  if (page.meta && 'next_page' in page.meta) {
    const n = pageNumber(page.meta.next_page)
    return n !== undefined && n > current ? withPage(n) : undefined
  }
  const link = page.links?.next ?? page.next
  if (typeof link === 'string' && /^https?:\/\/[^\s]+$/i.test(link.trim())) return link.trim()
  const total = pageNumber(page.total_pages)
  if (total !== undefined && link === undefined && current < total) return withPage(current + 1)
  return undefined
}

/** Iterate over every custom integration, page by page (`?type=custom`; other types skipped too if the server ignores the filter). */
export async function* listIntegrations(client: SecodaClient, signal?: AbortSignal): AsyncGenerator<Integration> {
  const first = `${LIST_PATH}?type=custom`
  let next: string | undefined = first
  const seen = new Set<string>()
  for (let n = 1; next && n <= MAX_PAGES; n++) {
    if (seen.has(next)) break
    seen.add(next)
    const page: Page = await client.json<Page>('GET', next, undefined, signal)
    if (!Array.isArray(page.results)) throw new SecodaError('UPLOAD_HTTP', `GET ${LIST_PATH}: the answer has no "results" list`)
    for (const i of page.results) if (i.type === undefined || i.type === 'custom') yield i
    next = nextPage(page, pageNumber(page.meta?.page) ?? n, first)
  }
}

/** Options of {@link findOrCreateIntegration}. */
export interface FindIntegrationOptions {
  /** Create the integration when no integration has this name. Default false. */
  create?: boolean
  /** Team ids for a created integration. */
  teams?: string[]
  /** With `create`, report what would be created instead of creating it. */
  dryRun?: boolean
  signal?: AbortSignal
}

/** The integration found or created, and whether it was created. */
export interface FoundIntegration {
  id: string
  name: string
  created: boolean
}

async function findByName(client: SecodaClient, name: string, signal?: AbortSignal): Promise<Integration | undefined> {
  const matches: Integration[] = []
  for await (const i of listIntegrations(client, signal)) if (i.name === name) matches.push(i)
  if (matches.length > 1) {
    throw new SecodaError(
      'INTEGRATION_AMBIGUOUS',
      `${matches.length} custom integrations are called "${name}" (ids ${matches.map((m) => m.id).join(', ')}): pass --integration ID`,
    )
  }
  return matches[0]
}

/**
 * Find the custom integration called `name` (exact match, custom ones only: a sync into a
 * native integration would archive its resources). With `create`, create it when it is
 * missing. A create answered 5xx or cut off may still have created it, so it is never
 * repeated blindly: the name is looked up again and what was created is used. Throws
 * INTEGRATION_NOT_FOUND when missing without `create`, INTEGRATION_AMBIGUOUS when several
 * share the name.
 */
export async function findOrCreateIntegration(
  client: SecodaClient,
  name: string,
  options: FindIntegrationOptions = {},
): Promise<FoundIntegration> {
  const found = await findByName(client, name, options.signal)
  if (found) return { id: String(found.id), name, created: false }
  if (!options.create) {
    throw new SecodaError(
      'INTEGRATION_NOT_FOUND',
      `no custom integration is called "${name}": add --create to create a custom integration with that name`,
    )
  }
  if (options.dryRun) return { id: '(dry run: would be created)', name, created: true }
  const body: Record<string, unknown> = { type: 'custom', name, credentials: {} }
  if (options.teams?.length) body.teams = options.teams
  const tries = client.options.maxAttempts
  for (let attempt = 1; ; attempt++) {
    try {
      // 429 is retried inside (the rate limiter did nothing); 5xx and resets are not.
      const res = await client.send({
        method: 'POST',
        path: LIST_PATH,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: options.signal,
        retryResets: false,
        retryStatuses: 'rate-limit',
      })
      let made: Integration | undefined
      try {
        made = JSON.parse(res.body) as Integration
      } catch {
        /* handled below */
      }
      if (made?.id === undefined || made.id === null) throw new SecodaError('UPLOAD_HTTP', `POST ${LIST_PATH}: the answer carries no "id"`)
      return { id: String(made.id), name, created: true }
    } catch (e) {
      const status = httpStatusOf(e)
      const unsure = (e as SecodaError).code === 'UPLOAD_NETWORK' || (status !== undefined && status >= 500)
      if (!unsure) throw e
      // The create may have happened: look before trying again.
      const again = await findByName(client, name, options.signal)
      if (again) return { id: String(again.id), name, created: true }
      if (attempt >= tries) throw e
      await client.options.sleep(client.backoffMs(attempt, undefined), options.signal)
    }
  }
}

/**
 * Fetch one integration by id and check that it is a custom integration. Throws
 * INTEGRATION_NOT_FOUND (404) or INTEGRATION_NOT_CUSTOM (a native one: snowflake, dbt, ...).
 */
export async function checkCustomIntegration(client: SecodaClient, id: string, signal?: AbortSignal): Promise<Integration> {
  let one: Integration
  try {
    one = await client.json<Integration>('GET', `${LIST_PATH}${encodeURIComponent(id)}/`, undefined, signal)
  } catch (e) {
    if (httpStatusOf(e) === 404) throw new SecodaError('INTEGRATION_NOT_FOUND', `no integration has the id ${id}`, { cause: e })
    throw e
  }
  if (one.type !== 'custom') {
    throw new SecodaError(
      'INTEGRATION_NOT_CUSTOM',
      `integration ${id}${one.name ? ` ("${one.name}")` : ''} is a ${one.type === undefined ? 'integration of unknown type' : `"${one.type}" integration`}, not a custom one: an upload would be a sync that archives its resources. Upload to a custom integration (--integration-name NAME --create makes one)`,
    )
  }
  return one
}

/**
 * How many resources the catalog holds for an integration: `count` of
 * `GET /resource/catalog?filter={"operator":"in","field":"integration_id","value":[id]}`
 * (rows stop at 10,000 but count is the total). Throws UPLOAD_GUARD_UNAVAILABLE, saying why,
 * when the count cannot be read (403, 404 on an older self-hosted version, network, no count).
 */
export async function catalogCount(client: SecodaClient, integrationId: string, signal?: AbortSignal): Promise<number> {
  const filter = JSON.stringify({ operator: 'in', field: 'integration_id', value: [integrationId] })
  let page: { count?: unknown }
  const query = `?filter=${encodeURIComponent(filter)}`
  try {
    try {
      page = await client.json<{ count?: unknown }>('GET', `/resource/catalog${query}`, undefined, signal)
    } catch (e) {
      // The reference writes the path without the trailing slash every other path has; a
      // server routing only the slashed form answers 404 or redirects (not followed): try it.
      const status = httpStatusOf(e)
      if (status !== 404 && !(status !== undefined && status >= 300 && status < 400)) throw e
      page = await client.json<{ count?: unknown }>('GET', `/resource/catalog/${query}`, undefined, signal)
    }
  } catch (e) {
    // A wrong key (401) is the key's problem, not the guard's: say so as for any request.
    if (signal?.aborted || httpStatusOf(e) === 401) throw e
    throw new SecodaError(
      'UPLOAD_GUARD_UNAVAILABLE',
      `cannot read how many resources integration ${integrationId} holds (${(e as Error).message}), so the server-side stale guard cannot run; nothing was sent. If the key may not read the catalog or the server predates resource/catalog, --allow-stale uploads without the guard`,
      { cause: e },
    )
  }
  const n = page?.count
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new SecodaError(
      'UPLOAD_GUARD_UNAVAILABLE',
      `GET /resource/catalog for integration ${integrationId}: the answer has no "count" (got ${JSON.stringify(n)}), so the server-side stale guard cannot run; nothing was sent (--allow-stale uploads without it)`,
    )
  }
  return n
}
