import type { SandboxUser } from './context.js';

/** The people on the sandbox's consent page unless the caller brings its own. */
export const DEFAULT_SANDBOX_USERS: SandboxUser[] = [
  {
    sub: '104217389532716405821',
    email: 'john.doe@example.com',
    name: 'John Doe',
    givenName: 'John',
    familyName: 'Doe',
  },
  {
    sub: '109834561203984756102',
    email: 'jane.doe@example.com',
    name: 'Jane Doe',
    givenName: 'Jane',
    familyName: 'Doe',
  },
  {
    sub: '112093847561029384756',
    email: 'alex.rivera@example.com',
    name: 'Alex Rivera',
    givenName: 'Alex',
    familyName: 'Rivera',
  },
  {
    sub: '117485920394857610293',
    email: 'mei.tanaka@example.com',
    name: 'Mei Tanaka',
    givenName: 'Mei',
    familyName: 'Tanaka',
  },
];
