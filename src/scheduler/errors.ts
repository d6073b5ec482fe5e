// How the scheduler tells the Client failures it handles apart: gone, or changed meanwhile.
import { ClientError } from '../client/client.ts';

/** Whether a Client failure is a 404 (the object is gone). */
export const isNotFound = (e: unknown): boolean => e instanceof ClientError && e.code === 404;

/** Whether a Client failure is a 409 Conflict (changed meanwhile, already bound, or being deleted). */
export const isConflict = (e: unknown): boolean => e instanceof ClientError && e.code === 409 && e.reason === 'Conflict';

/** Whether a create failed because the name is taken. */
export const isAlreadyExists = (e: unknown): boolean => e instanceof ClientError && e.reason === 'AlreadyExists';
