// The Client contract for LocalClient, straight on an LMDB store.
import { LocalClient } from '../../src/client/local.ts';
import { openStore } from '../helpers/server.ts';
import { clientContract, compactStore } from './contract.ts';

clientContract('LocalClient', async () => {
  const { store, close } = await openStore();
  return { client: new LocalClient(store), stop: close, compact: () => compactStore(store) };
});
