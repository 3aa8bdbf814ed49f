export { startVeniceSim, BLUR_TRIGGER, VIOLATION_TRIGGER, VENICE_VERSION } from './server.js';
export type { VeniceSim, VeniceSimOptions, RecordedRequest } from './server.js';
export type { ControlRequest, Fault } from './behaviour.js';
export { STYLE_PRESETS } from './styles.js';
