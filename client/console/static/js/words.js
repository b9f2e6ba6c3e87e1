// words.js: plain words for the node's enum names, shared by the pages
// (the same wording as havenctl's plain output, client/cli/plain_words.cc
// and report_text.cc).

export const PURPOSE_WORDS = {
  SERVICE_REFERRAL: 'referral to services',
  CASE_COORDINATION: 'coordinating the case between agencies',
  SAFETY_PLANNING: 'safety planning',
  LEGAL_REPRESENTATION: 'legal representation',
  INVESTIGATION: 'a criminal investigation',
  PROSECUTION_PURPOSE: 'prosecution',
  EMERGENCY: 'an emergency (imminent risk to life)',
};

export const CATEGORY_WORDS = {
  IDENTITY: 'identity (name, date of birth, documents)',
  CONTACT: 'contact details (phone, email, safe times)',
  LOCATION: 'location (addresses, shelter placement)',
  SERVICE_NEEDS: 'service needs and referrals',
  CASE_STATUS: 'case status',
  MEDICAL: 'physical health',
  MENTAL_HEALTH: 'mental health and counselling',
  IMMIGRATION: 'immigration status and visa applications',
  LEGAL: 'legal representation and proceedings',
  CRIMINAL_HISTORY: 'her own criminal record',
  CHILDREN: 'children and custody',
  CASE_NOTES: 'this agency\u2019s case notes',
};

export const SECTOR_WORDS = {
  LAW_ENFORCEMENT: 'police and law enforcement',
  PROSECUTION: 'prosecutors',
  VICTIM_SERVICES: 'victim services',
  LEGAL_SERVICES: 'legal aid and legal services',
  CHILD_WELFARE: 'child welfare',
  HEALTH: 'health services and clinics',
  SHELTER: 'shelters',
};

export const STATUS_WORDS = {
  ACTIVE: 'in force',
  PAUSED: 'paused',
  REVOKED: 'withdrawn',
  EXPIRED: 'expired',
};

// Why a category was or was not given (DecisionReason), completing the
// sentence "withheld, because ...".
export const REASON_WORDS = {
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

// What an audit entry records (EntryKind), as a heading.
export const KIND_WORDS = {
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

// "contact details, location and case status".
export function sentenceList(items) {
  const list = items.filter((x) => x);
  if (list.length <= 1) return list.join('');
  return list.slice(0, -1).join(', ') + ' and ' + list[list.length - 1];
}

export function words(table, name) {
  return table[name] || String(name || '').toLowerCase().replace(/_/g, ' ');
}

export function categoryList(names) {
  return sentenceList((names || []).map((c) => words(CATEGORY_WORDS, c).replace(/ \(.*\)$/, '')));
}

export function purposeList(names) {
  return sentenceList((names || []).map((p) => words(PURPOSE_WORDS, p)));
}

export function granteeWords(grantee) {
  if (!grantee) return 'nobody';
  if (grantee.agencyId) return 'agency ' + grantee.agencyId;
  if (grantee.sector) return 'every agency of the kind \u201c' + words(SECTOR_WORDS, grantee.sector) + '\u201d';
  return 'nobody';
}

// A timestamp in Unix nanoseconds (int64 as a string) as milliseconds.
export function nanosToMillis(nanos) {
  try {
    return Number(BigInt(String(nanos || '0')) / 1000000n);
  } catch (e) {
    return 0;
  }
}

// What a report entry says, in the survivor's words (report_text.cc).
export function reportSentence(e) {
  const who = e.principal ? 'staff account ' + e.principal : 'this agency';
  const purpose = words(PURPOSE_WORDS, e.purpose);
  switch (e.kind) {
    case 'RECORD_READ': return who + ' read your record here.';
    case 'RECORD_WRITTEN': return who + ' added to or changed your record here.';
    case 'SUBJECT_ERASED': return who + ' erased your records here.';
    case 'CONSENT_RECORDED': return 'Your consent to share was recorded by ' + who + '.';
    case 'CONSENT_AMENDED': return 'Your consent was changed by ' + who + '.';
    case 'CONSENT_PAUSED': return 'Your consent was paused by ' + who + '.';
    case 'CONSENT_RESUMED': return 'Your consent was resumed by ' + who + '.';
    case 'CONSENT_REVOKED': return 'Your consent was withdrawn by ' + who + '; nothing more is shared under it.';
    case 'REFUSAL_RECORDED': return 'Your wish not to share was recorded by ' + who + '.';
    case 'REFUSAL_LIFTED': return 'Your wish not to share was lifted by ' + who + '.';
    case 'HANDLE_ISSUED':
      return 'Agency ' + String(e.detail || '').slice(3) + ' was given a reference to ask about you, because of your consent.';
    case 'HANDLE_WITHDRAWN':
      return 'Agency ' + String(e.detail || '').slice(5) + ' lost its reference to ask about you.';
    case 'DISCLOSURE': {
      let s = 'This agency shared your ' + categoryList(e.given) + ' information with ' + e.agencyId + ' for ' + purpose;
      if (e.breakGlass) s += ', in an emergency, with the reason \u201c' + e.justification + '\u201d';
      if ((e.withheld || []).length) s += '; it did not share the rest they asked for';
      return s + '.';
    }
    case 'REQUEST_REFUSED':
      return e.agencyId + ' asked for your ' + categoryList(e.asked) + ' information for ' + purpose + '; nothing was shared.';
    default:
      return String(e.kind || 'something').toLowerCase().replace(/_/g, ' ') + '.';
  }
}
