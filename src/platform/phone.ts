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
