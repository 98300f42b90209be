import { defineIntegrationMessage } from '@annals/outbox';
import { z } from 'zod';
import { TransferCompleted, TransferFailed, TransferStarted } from '../domain/events.js';

// #region messages
/**
 * The bank's transfers as other services see them: a contract of its own (flat amounts, a version),
 * mapped explicitly from the domain events, which stay free to change. Subjects start with `prefix`.
 */
export function transferMessages(prefix = 'bank.transfers') {
  return [
    defineIntegrationMessage({
      name: 'bank.transfer-started',
      version: 1,
      event: TransferStarted,
      schema: z.object({
        transferId: z.string(),
        from: z.string(),
        to: z.string(),
        amountCents: z.number().int().positive(),
        currency: z.string().length(3),
      }),
      subject: `${prefix}.started`,
      map: (e) => ({
        transferId: e.data.transferId,
        from: e.data.from,
        to: e.data.to,
        amountCents: e.data.amount.value,
        currency: e.data.amount.currency,
      }),
    }),
    defineIntegrationMessage({
      name: 'bank.transfer-completed',
      version: 1,
      event: TransferCompleted,
      schema: z.object({ transferId: z.string() }),
      subject: `${prefix}.completed`,
      map: (e) => ({ transferId: e.data.transferId }),
    }),
    defineIntegrationMessage({
      name: 'bank.transfer-failed',
      version: 1,
      event: TransferFailed,
      schema: z.object({ transferId: z.string(), reason: z.string() }),
      subject: `${prefix}.failed`,
      map: (e) => ({ transferId: e.data.transferId, reason: e.data.reason }),
    }),
  ];
}
// #endregion messages
