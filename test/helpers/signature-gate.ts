/**
 * A gate in front of an S3 server that does not check signatures (s3rver): it checks each request's
 * AWS Signature Version 4 as S3 does, from the request as it arrived (method, path, query, the
 * headers it names as signed), and passes it through only when the signature holds; otherwise it
 * answers S3's 403 `SignatureDoesNotMatch`. Written from AWS's description of SigV4 (canonical
 * request, string to sign, the HMAC chain of date, region, service), independently of the client's
 * signer, so that a header sent but not signed, or signed but sent otherwise, is caught.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { listenLocally, relay } from './remote-servers.js';

export interface SignatureGate {
  url: string;
  /** Every request: its method and path, and whether its signature held. */
  checked: { method: string; path: string; valid: boolean; why?: string }[];
  close(): Promise<void>;
}

export interface GateCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry it, signed. */
  sessionToken?: string;
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
/** RFC 3986 encoding, as SigV4 asks of query names and values. */
const encode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Why the request's signature does not hold, or undefined when it does. */
export function signatureProblem(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>, credentials: GateCredentials): string | undefined {
  const authorization = req.headers.authorization;
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(authorization ?? '');
  if (!match) return `no SigV4 Authorization header (${authorization === undefined ? 'none' : 'malformed'})`;
  const [, keyId, day, region, signedList, signature] = match as unknown as [string, string, string, string, string, string];
  if (keyId !== credentials.accessKeyId) return `unknown access key id ${keyId}`;
  const amzDate = req.headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !amzDate.startsWith(day)) return 'X-Amz-Date missing or not of the credential\'s day';
  const signed = signedList.split(';');
  for (const needed of ['host', 'x-amz-date', 'x-amz-content-sha256', ...(credentials.sessionToken ? ['x-amz-security-token'] : [])]) {
    if (!signed.includes(needed)) return `${needed} is not signed`;
  }
  if (credentials.sessionToken && req.headers['x-amz-security-token'] !== credentials.sessionToken) return 'wrong session token';
  const [path = '/', query = ''] = (req.url ?? '/').split(/\?(.*)/s);
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [name = '', value = ''] = pair.split(/=(.*)/s);
      return [encode(decodeURIComponent(name)), encode(decodeURIComponent(value))] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const unsent = signed.find((name) => req.headers[name] === undefined);
  if (unsent) return `${unsent} is named as signed but was not sent`;
  const headerLines = signed.map((name) => {
    const value = req.headers[name]!;
    return `${name}:${(Array.isArray(value) ? value.join(',') : value).trim().replace(/\s+/g, ' ')}\n`;
  });
  const canonicalRequest = [req.method, path, canonicalQuery, headerLines.join(''), signedList, String(req.headers['x-amz-content-sha256'])].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), 's3'), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === signature ? undefined : 'the signature does not match the request as it arrived';
}

/** Starts the gate on 127.0.0.1 in front of `target` (an S3 server's URL). */
export async function startSignatureGate(target: string, credentials: GateCredentials): Promise<SignatureGate> {
  const checked: SignatureGate['checked'] = [];
  const to = new URL(target);
  const server = createServer((req, res) => {
    const why = signatureProblem(req, credentials);
    checked.push({ method: req.method ?? '', path: req.url ?? '', valid: why === undefined, ...(why ? { why } : {}) });
    if (why) {
      req.resume();
      const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>${why}</Message></Error>`;
      res.writeHead(403, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) }).end(xml);
      return;
    }
    relay(req, res, { host: to.hostname, port: to.port, path: req.url, headers: { ...req.headers, host: to.host } });
  });
  return { ...(await listenLocally(server)), checked };
}
