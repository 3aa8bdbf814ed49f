/** `GET /models`, `/models/traits` and `/models/compatibility_mapping`: the catalog, public. */
import { detailedError } from '../api-errors.js';
import { traitMap } from '../catalog.js';
import { errorReply, json, type Reply } from '../replies.js';
import { baseHeaders, type SimState } from '../sim-state.js';

const MODEL_TYPES = ['asr', 'embedding', 'image', 'music', 'text', 'tts', 'upscale', 'inpaint', 'video'];

export function handleModels(state: SimState, url: URL, route: 'list' | 'traits' | 'compatibility'): Reply {
  const { catalog } = state;
  const type = url.searchParams.get('type') ?? 'text';
  const allowed = route === 'compatibility' ? MODEL_TYPES : [...MODEL_TYPES, 'all', 'code'];
  if (!allowed.includes(type)) {
    return errorReply(detailedError([{ code: 'invalid_enum_value', path: ['type'], received: type, message: `Invalid enum value. Expected ${allowed.map((t) => `'${t}'`).join(' | ')}, received '${type}'` }]), baseHeaders());
  }
  const selected = catalog.filter((m) => type === 'all' || m.type === type);
  if (route === 'list') {
    const data = selected.map((m) => ({ created: m.created, id: m.id, model_spec: m.model_spec, object: 'model', owned_by: 'venice.ai', type: m.type }));
    return json(200, { object: 'list', type, data }, baseHeaders());
  }
  const data = route === 'traits' ? traitMap(selected) : {};
  return json(200, { object: 'list', type, data }, baseHeaders());
}

