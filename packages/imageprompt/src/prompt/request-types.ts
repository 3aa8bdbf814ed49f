/**
 * The requests a prompt file becomes, on both routes: what the native route sends, what the
 * OpenAI-compatible route sends, and a prepared request with its key. Types only (and the route's
 * two constants), so that the two routes' preparation can share them without importing each other.
 */
import type { ImageFormat } from './prompt-schema.js';
import { DEFAULT_DERIVED_FORMATS, type DerivedFormat, type ResponsiveSpec } from '../images/responsive-spec.js';
import type { PreparedChain, StepSend } from '../steps/prepare-chain.js';

export const OPENAI_ROUTE = 'images/generations';
export const OPENAI_SIZES = ['auto', '256x256', '512x512', '1024x1024', '1536x1024', '1024x1536', '1792x1024', '1024x1792'] as const;

/** The request as sent to Venice (minus `return_binary`, which the client adds). */
export interface NormalisedRequest {
  model: string;
  prompt: string;
  format: ImageFormat;
  variants: number;
  seed: number;
  safe_mode: boolean;
  hide_watermark: boolean;
  embed_exif_metadata: boolean;
  enable_web_search: boolean;
  enhance_prompt: boolean;
  negative_prompt?: string;
  width?: number;
  height?: number;
  aspect_ratio?: string;
  resolution?: string;
  quality?: string;
  cfg_scale?: number;
  steps?: number;
  style_preset?: string;
  lora_strength?: number;
  disable_prompt_optimization_thinking?: boolean;
  style_references?: { image: string; strength?: number }[];
}

export interface PreparedRequest {
  /** The native request; on the OpenAI-compatible route, a native-shaped view of what is sent. */
  request: NormalisedRequest;
  /** Set on the OpenAI-compatible route: where the request goes and what is sent. */
  send?: OpenAISend;
  /** Set when the request is a step on images (upscale, background removal, edit): see steps/. */
  step?: StepSend;
  /** Set when more follows this request (`then`), or it starts from committed images (`"api": "edit"` …). */
  chain?: PreparedChain;
  key: string;
  seedSource: 'file' | 'derived';
  alt: string | undefined;
  /** The derived images the import carries (widths ascending, formats defaulted), if the file asks. */
  responsive: ResponsiveSpec | undefined;
  /** Things Venice would silently ignore, worth telling the user. */
  warnings: string[];
}

/** The request sent to `/images/generations` (the plugin adds `response_format: "b64_json"`). */
export interface OpenAIRequest {
  model: string;
  prompt: string;
  size: (typeof OPENAI_SIZES)[number];
  n: 1;
  output_format: 'jpeg' | 'png' | 'webp';
  moderation: 'low' | 'auto';
  quality: string;
  background: string;
  style: string;
  user?: string;
}

/** What a prepared request sends when it goes to the OpenAI-compatible route. */
export interface OpenAISend {
  route: typeof OPENAI_ROUTE;
  /** `venice`, or a provider named in imageprompt.config.json. */
  provider: string;
  body: OpenAIRequest;
}

/** A prompt file's `responsive` field as the import uses it: widths ascending, formats defaulted. */
export function responsiveSpec(field: { widths: number[]; formats?: DerivedFormat[] } | undefined): ResponsiveSpec | undefined {
  if (!field) return undefined;
  return { widths: [...field.widths].sort((a, b) => a - b), formats: field.formats ?? [...DEFAULT_DERIVED_FORMATS] };
}
