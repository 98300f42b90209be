const symbols: Record<string, string> = { EUR: '€', USD: '$', GBP: '£' };

/** Formats minor units as money: 12345 -> €123.45. */
export function money(cents: number, currency = 'EUR'): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100).toLocaleString('en');
  return `${sign}${symbols[currency] ?? `${currency} `}${whole}.${String(abs % 100).padStart(2, '0')}`;
}
