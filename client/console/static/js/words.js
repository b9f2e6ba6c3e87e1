import {formatTime} from './dom.js';

// Plain-language names for the wire contract's enums (proto/haven/v1), for
// pages that show them to people. Unknown names fall back to the name in
// lower case, so a newer node's values still read as words.

const CATEGORY = {
  IDENTITY: 'identity (name, date of birth, documents)',
  CONTACT: 'contact details',
  LOCATION: 'location and addresses',
  SERVICE_NEEDS: 'service needs and referrals',
  CASE_STATUS: 'case status',
  MEDICAL: 'medical',
  MENTAL_HEALTH: 'mental health',
  IMMIGRATION: 'immigration status',
  LEGAL: 'legal representation and proceedings',
  CRIMINAL_HISTORY: 'criminal history',
  CHILDREN: 'children and custody',
  CASE_NOTES: 'case notes',
};

const PURPOSE = {
  SERVICE_REFERRAL: 'service referral',
  CASE_COORDINATION: 'case coordination',
  SAFETY_PLANNING: 'safety planning',
  LEGAL_REPRESENTATION: 'legal representation',
  INVESTIGATION: 'investigation',
  PROSECUTION_PURPOSE: 'prosecution',
  EMERGENCY: 'emergency (risk to life)',
};

const REASON = {
  ALLOWED_BY_RULE: 'the sharing policy allows it without consent',
  ALLOWED_BY_CONSENT: 'the survivor consented to it',
  ALLOWED_BY_EMERGENCY: 'an emergency rule allowed it (to be reviewed)',
  NO_MATCHING_RULE: 'the holder\'s sharing policy does not allow it',
  DENIED_BY_RULE: 'the holder\'s sharing policy forbids it',
  REFUSED_BY_SURVIVOR: 'the survivor asked that it not be shared',
  NO_CONSENT: 'no consent from the survivor covers it',
  CONSENT_IS_EXPIRED: 'the survivor\'s consent has expired',
  CONSENT_IS_NOT_YET_VALID: 'the survivor\'s consent is not in force yet',
  CONSENT_IS_PAUSED: 'the survivor\'s consent is paused',
  CONSENT_IS_REVOKED: 'the survivor withdrew her consent',
  CONSENT_USE_LIMIT_REACHED: 'the consent has been used as often as it allows',
  JUSTIFICATION_MISSING: 'only an emergency rule could allow it, and no justification was given',
};

const KIND = {
  DISCLOSURE: 'Data was disclosed to another agency',
  REQUEST_REFUSED: 'A request from another agency was refused',
  DISCLOSURE_RECEIVED: 'An answer was received from another agency',
  RECORD_READ: 'A record was read',
  RECORD_WRITTEN: 'A record was written',
  CONSENT_RECORDED: 'A consent was recorded',
  CONSENT_AMENDED: 'A consent was amended',
  CONSENT_PAUSED: 'A consent was paused',
  CONSENT_RESUMED: 'A consent was resumed',
  CONSENT_REVOKED: 'A consent was revoked',
  REFUSAL_RECORDED: 'A "do not share" was recorded',
  REFUSAL_LIFTED: 'A "do not share" was lifted',
  POLICY_LOADED: 'A sharing policy was loaded',
  SUBJECT_ERASED: 'A subject\'s data was erased',
  KEY_ROTATED: 'An encryption key was rotated',
  MEMBER_CHANGED: 'A member agency changed',
  BREAK_GLASS: 'An emergency (break-glass) decision',
  NODE_STARTED: 'The node started',
  NODE_STOPPED: 'The node stopped',
  REVOCATION_NOTICE_RECEIVED: 'A revocation notice was received',
  WRITES_VOIDED: 'Unconfirmed writes were undone',
  HANDLE_ISSUED: 'A handle was issued to another agency',
  HANDLE_WITHDRAWN: 'A handle was withdrawn',
  HANDLE_RECEIVED: 'A handle was received from another agency',
  WITNESS_FAILED: 'A peer\'s checkpoint failed its check',
  BREAK_GLASS_REVIEWED: 'An emergency decision was reviewed',
  BACKUP_TAKEN: 'A backup was taken',
  RESTORED_FROM_BACKUP: 'The node was restored from a backup',
  ROLLBACK_DETECTED: 'A rollback or fork of this log was detected',
  ROLLBACK_ACKNOWLEDGED: 'A restore or rollback was acknowledged',
  MANIFEST_REFUSED: 'A federation manifest was refused',
  MANIFEST_APPLIED: 'A federation manifest was put in force',
  MEMBERSHIP_JOINED: 'An agency joined the federation',
  MEMBERSHIP_SUSPENDED: 'An agency was suspended',
  MEMBERSHIP_REINSTATED: 'An agency was reinstated',
  MEMBERSHIP_REMOVED: 'An agency was removed',
  SIGNING_KEY_ROTATED: 'The node\'s signing key was rotated',
  SIGN_IN: 'A person signed in',
  SIGN_IN_FAILED: 'A sign-in failed',
  SIGN_OUT: 'A person signed out',
  ACCOUNT_ADDED: 'An account was added',
  ACCOUNT_DISABLED: 'An account was disabled',
  ACCOUNT_RESET: 'An account was reset',
  ACCOUNT_ENROLLED: 'A person finished enrolment',
};

function fallback(name) {
  return String(name || 'unspecified').toLowerCase().replace(/_/g, ' ');
}

export const categoryWords = (c) => CATEGORY[c] || fallback(c);
export const purposeWords = (p) => PURPOSE[p] || fallback(p);
export const reasonWords = (r) => REASON[r] || fallback(r);
export const kindWords = (k) => KIND[k] || fallback(k);

// EntryKind numbers (audit.proto), to compare a shown entry with its
// logged bytes.
export const KIND_NUMBER = {
  DISCLOSURE: 1,
  REQUEST_REFUSED: 2,
  DISCLOSURE_RECEIVED: 3,
  RECORD_READ: 4,
  RECORD_WRITTEN: 5,
  CONSENT_RECORDED: 6,
  CONSENT_AMENDED: 7,
  CONSENT_PAUSED: 8,
  CONSENT_RESUMED: 9,
  CONSENT_REVOKED: 10,
  REFUSAL_RECORDED: 11,
  REFUSAL_LIFTED: 12,
  POLICY_LOADED: 13,
  SUBJECT_ERASED: 14,
  KEY_ROTATED: 15,
  MEMBER_CHANGED: 16,
  BREAK_GLASS: 17,
  NODE_STARTED: 18,
  NODE_STOPPED: 19,
  REVOCATION_NOTICE_RECEIVED: 20,
  WRITES_VOIDED: 21,
  HANDLE_ISSUED: 22,
  HANDLE_WITHDRAWN: 23,
  HANDLE_RECEIVED: 24,
  WITNESS_FAILED: 25,
  BREAK_GLASS_REVIEWED: 26,
  BACKUP_TAKEN: 27,
  RESTORED_FROM_BACKUP: 28,
  ROLLBACK_DETECTED: 29,
  ROLLBACK_ACKNOWLEDGED: 30,
  MANIFEST_REFUSED: 31,
  MANIFEST_APPLIED: 32,
  MEMBERSHIP_JOINED: 33,
  MEMBERSHIP_SUSPENDED: 34,
  MEMBERSHIP_REINSTATED: 35,
  MEMBERSHIP_REMOVED: 36,
  SIGNING_KEY_ROTATED: 41,
  SIGN_IN: 42,
  SIGN_IN_FAILED: 43,
  SIGN_OUT: 44,
  ACCOUNT_ADDED: 45,
  ACCOUNT_DISABLED: 46,
  ACCOUNT_RESET: 47,
  ACCOUNT_ENROLLED: 48,
};

// The enum names, for choosers (in the contract's order).
export const CATEGORIES = Object.keys(CATEGORY);
export const PURPOSES = Object.keys(PURPOSE);
export const KINDS = Object.keys(KIND);

// Unix nanoseconds (int64 as a string, as proto3 JSON sends it) as a
// local date and time.
export function whenNanos(nanos) {
  if (!nanos || nanos === '0') return 'unknown time';
  return formatTime(Number(BigInt(nanos) / 1000000000n));
}
