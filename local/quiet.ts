// Imported first by the local runtime: Powertools reads these when the handler modules load.
// Locally, per-request info logs and EMF metric lines would drown the bus output.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
export {};
