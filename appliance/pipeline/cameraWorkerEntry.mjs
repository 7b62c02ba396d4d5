// A camera's worker thread starts here: the appliance is TypeScript run through tsx, and a worker
// thread does not inherit the main thread's module hooks, so it registers them itself.
import { register } from 'tsx/esm/api';

register();
await import('./cameraWorkerThread.ts');
