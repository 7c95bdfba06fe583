// Custom integrations: find one by name through the paged list, or create it (type
// custom) when asked. Spec: ../shared/docs/secoda-formats.md ("The HTTP API").

import { SecodaError } from '../errors.js'
import type { SecodaClient } from './http.js'

/** An integration as the list endpoint returns it (fields beyond these are kept as-is). */
export interface Integration {
  id: string
  name: string
  type?: string
  [k: string]: unknown
}

interface Page {
  results?: Integration[]
  links?: { next?: string | null }
  next?: string | null
  count?: number
  total_pages?: number
}

const LIST_PATH = '/integration/integrations/'
/** Guard against a server whose `next` links loop. */
const MAX_PAGES = 10_000

/** Iterate over every integration, page by page. */
export async function* listIntegrations(client: SecodaClient, signal?: AbortSignal): AsyncGenerator<Integration> {
  let next: string | null | undefined = LIST_PATH
  const seen = new Set<string>()
  for (let n = 0; next && n < MAX_PAGES; n++) {
    if (seen.has(next)) break
    seen.add(next)
    const page: Page = await client.json<Page>('GET', next, undefined, signal)
    if (!Array.isArray(page.results)) throw new SecodaError('UPLOAD_HTTP', `GET ${LIST_PATH}: the answer has no "results" list`)
    yield* page.results
    next = page.links?.next ?? page.next
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

/**
 * Find the custom integration called `name` (exact match). With `create`, create it when it
 * is missing. Throws INTEGRATION_NOT_FOUND when missing without `create`, and
 * INTEGRATION_AMBIGUOUS when several share the name (uploading to the wrong one would
 * stale the other's catalog).
 */
export async function findOrCreateIntegration(
  client: SecodaClient,
  name: string,
  options: FindIntegrationOptions = {},
): Promise<FoundIntegration> {
  const matches: Integration[] = []
  for await (const i of listIntegrations(client, options.signal)) if (i.name === name) matches.push(i)
  if (matches.length > 1) {
    throw new SecodaError(
      'INTEGRATION_AMBIGUOUS',
      `${matches.length} integrations are called "${name}" (ids ${matches.map((m) => m.id).join(', ')}): pass --integration ID`,
    )
  }
  if (matches.length === 1) return { id: String(matches[0]!.id), name, created: false }
  if (!options.create) {
    throw new SecodaError(
      'INTEGRATION_NOT_FOUND',
      `no integration is called "${name}": add --create to create a custom integration with that name`,
    )
  }
  if (options.dryRun) return { id: '(dry run: would be created)', name, created: true }
  const body: Record<string, unknown> = { type: 'custom', name, credentials: {} }
  if (options.teams?.length) body.teams = options.teams
  const made = await client.json<Integration>('POST', LIST_PATH, body, options.signal)
  if (made.id === undefined || made.id === null) throw new SecodaError('UPLOAD_HTTP', `POST ${LIST_PATH}: the answer carries no "id"`)
  return { id: String(made.id), name, created: true }
}
