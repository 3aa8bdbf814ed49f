/**
 * `imageprompt/hits`: what a build needs to serve a cache hit this machine verified before, without
 * loading the engine, the schema library or any network code: the hit index, the settings it is
 * keyed by, the build report's summary, the logger, the error type, and the responsive derivatives
 * made from a hit's bytes (sharp loaded only to encode one). The plugin serves hits from
 * here and loads the engine (`imageprompt`) only for a file the index cannot answer.
 */
export { HitIndex, hitSettings, servedFromRecord, type HitRecord, type HitSettings } from './cache/hit-index.js';
export { emptyStats, summarizeStats, type BuildStats, type ImageStatus } from './engine/build-report.js';
export { consoleLogger, type Logger } from './logger.js';
export { ImagePromptError } from './errors/errors.js';
export { Derivatives, derivativeDir, type DerivativePlan, type DerivativeSource, type PlannedDerivative } from './images/derivatives.js';
export { DEFAULT_DERIVED_FORMATS, DERIVED_FORMATS, MAX_DERIVED_WIDTH, MIME_TYPES, MIN_DERIVED_WIDTH, derivedExtension, type DerivedFormat, type ResponsiveSpec } from './images/responsive-spec.js';
