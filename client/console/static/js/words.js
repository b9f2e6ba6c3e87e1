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
