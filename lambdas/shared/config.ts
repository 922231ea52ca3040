import { loadConfig } from '../../core/config';
import { ENV, optionalEnv } from './env';
import { lazy } from './lazy';

/** This container's configuration, parsed once from `SCHERP_CONFIG`. */
export const scherpConfig = lazy(() => loadConfig(optionalEnv(ENV.CONFIG)));
