// The audit module's door for other modules: services record their changes through it.
export { AUDIT_ENTITY_TYPES, diff, moneyFormatter, recordAudit, type Actor, type AuditEntry } from './audit.service.js';
