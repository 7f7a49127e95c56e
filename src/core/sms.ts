/**
 * SMS encoding and segment counting (3GPP TS 23.038). A body that uses only the GSM 03.38 alphabet is
 * sent as GSM-7: 160 septets in one message, 153 per segment when split (the rest carries the
 * concatenation header). Characters of the extension table are sent as ESC + char, so they count two
 * septets and are never split across segments. Anything else forces UCS-2: 70 UTF-16 code units in one
 * message, 67 per segment, and a surrogate pair is never split.
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsInfo {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) in the whole body. */
  units: number;
  /** Messages the carrier bills; 0 for an empty body. */
  segments: number;
  /** Units that fit one segment at this length: 160/153 (GSM-7) or 70/67 (UCS-2). */
  perSegment: number;
}

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

/** Septets a character takes in GSM-7: 1 (basic), 2 (extension), or undefined when GSM-7 cannot carry it. */
export function gsmSeptets(char: string): 1 | 2 | undefined {
  if (BASIC.has(char)) return 1;
  if (EXTENSION.has(char)) return 2;
  return undefined;
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (gsmSeptets(ch) === undefined) return false;
  return true;
}

/** Counts segments by filling each one greedily, so a 2-unit character never straddles two segments. */
function countSegments(sizes: number[], total: number, single: number, multi: number): number {
  if (total === 0) return 0;
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > multi) {
      segments++;
      used = 0;
    }
    used += size;
  }
  return segments;
}

export function smsInfo(text: string): SmsInfo {
  const chars = Array.from(text);
  if (chars.every((ch) => gsmSeptets(ch) !== undefined)) {
    const sizes = chars.map((ch) => gsmSeptets(ch)!);
    const units = sizes.reduce((a, b) => a + b, 0);
    return { encoding: 'GSM-7', units, segments: countSegments(sizes, units, 160, 153), perSegment: units <= 160 ? 160 : 153 };
  }
  // Array.from splits by code point; a code point above U+FFFF is two UTF-16 code units.
  const sizes = chars.map((ch) => ch.length);
  const units = text.length;
  return { encoding: 'UCS-2', units, segments: countSegments(sizes, units, 70, 67), perSegment: units <= 70 ? 70 : 67 };
}
