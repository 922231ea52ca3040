/**
 * The package entry point (`import { CustomerDataPlatform } from 'scherp'`): the construct, its
 * props and the types they use. `scherp/config` holds the configuration schema
 * (`core/config.ts`). This repository's own stack (`lib/scherp-stack.ts`) and the cdk-nag packs
 * (`lib/nag-packs.ts`, a dev dependency) are not part of the package.
 */
export * from './customer-data-platform';
export * from './destinations';
export * from './file-import';
export * from './monitoring';
export {
  DEFAULT_FUNCTION_SIZING,
  METRICS_NAMESPACE,
  type FunctionSizing,
  type ScherpFunctionName,
  type ScherpLogLevel,
} from './scherp-function';
export { DEFAULT_RULES_DIR, loadRules, type RuleDocument } from './rules';
export type { ScherpConfigInput } from '../core/config';
