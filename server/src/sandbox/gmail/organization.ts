import type { SandboxUser } from '../context.js';

/**
 * The seeded users stand for one Google Workspace organization. Gmail skips the ownership
 * e-mail for addresses the organization owns (forwarding addresses, send-as aliases) and
 * lets only members of the organization become delegates.
 */

const ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isEmailAddress(value: string): boolean {
  return ADDRESS.test(value);
}

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

export function isOrganizationAddress(email: string, users: readonly SandboxUser[]): boolean {
  const domain = domainOf(email);
  return users.some((user) => domainOf(user.email) === domain);
}

export function organizationMember(email: string, users: readonly SandboxUser[]): SandboxUser | undefined {
  const wanted = email.trim().toLowerCase();
  return users.find((user) => user.email.toLowerCase() === wanted);
}

export const sameAddress = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();
