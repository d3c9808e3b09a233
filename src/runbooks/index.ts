export {
  describeSource,
  listRunbookSources,
  MAX_RUNBOOKS_PER_ENTITY,
  RUNBOOK_ANNOTATION,
  RUNBOOK_INLINE_ANNOTATION,
  type RunbookSource,
} from './annotations.js';
export { RUNBOOK_READ, runbookPermissions } from './permissions.js';
export { type RenderedMarkdown, renderRunbookMarkdown } from './render.js';
export { type EntityRunbooks, type RunbookRouteOptions, registerRunbookRoutes } from './routes.js';
export {
  checkRunbookPath,
  MAX_RUNBOOK_FILE_BYTES,
  type RunbookFileFault,
  type RunbookFileResult,
  readRunbookFile,
} from './runbook-file.js';
export { type LoadRunbooksOptions, loadRunbooks, type Runbook } from './runbooks.js';
