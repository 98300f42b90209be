// #region quickstart
import { InMemoryEventStore } from '@annals/core';

const store = new InMemoryEventStore();

store.subscribe('my-stream', (e) => console.log(e.id, e.type, e.data));

await store.publish('my-stream', { type: 'MyEvent', data: { text: 'Hello, world!' } });
// #endregion quickstart
