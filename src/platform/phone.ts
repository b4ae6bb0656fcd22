// Phone numbers are stored and returned in E.164, parsed with the business's default country so
// "98765 43210", "09876543210", "+91 98765-43210" and a WhatsApp wa_id "919876543210" all agree.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export function toE164(input: string, defaultCountry: string = 'IN'): string | undefined {
  const raw = input.trim();
  if (!raw || raw.length > 32) return undefined;
  const country = defaultCountry.toUpperCase() as CountryCode;
  const tries = [raw];
  // A wa_id is the international number without '+': digits only and longer than a national number.
  if (/^\d{11,15}$/.test(raw)) tries.unshift(`+${raw}`);
  for (const t of tries) {
    const n = parsePhoneNumberFromString(t, country);
    if (n && n.isValid()) return n.number;
  }
  return undefined;
}

/**
 * A business's own number (a channel's): any number of a possible length for its country, in
 * E.164. Looser than toE164 on purpose: Meta's test numbers (+1 555 …) and new number ranges that
 * libphonenumber does not yet know are possible but not "valid". Customers' mobiles stay strict.
 */
export function toPossibleE164(input: string, defaultCountry: string = 'IN'): string | undefined {
  const strict = toE164(input, defaultCountry);
  if (strict) return strict;
  const raw = input.trim();
  if (!raw || raw.length > 32 || !/^[+\d\s().-]+$/.test(raw)) return undefined;
  const tries = /^\d{11,15}$/.test(raw) ? [`+${raw}`, raw] : [raw];
  for (const t of tries) {
    const n = parsePhoneNumberFromString(t, defaultCountry.toUpperCase() as CountryCode);
    if (n && n.isPossible()) return n.number;
  }
  return undefined;
}
