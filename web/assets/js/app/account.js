// The device's account (auth_key, username, full name) in localStorage, with
// an in-memory copy for browsers whose storage is unavailable (private mode).

const STORAGE_KEY = "central-auth";

function loadAccount() {
  try {
    const raw = window.localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const account = JSON.parse(raw);
    if (account && typeof account.auth_key === "string" && account.auth_key) return account;
  } catch (_err) {
    // Unreadable or unavailable storage: treat as signed out.
  }
  return null;
}

let memoryAccount = loadAccount();

export function saveAccount(account) {
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(account));
  } catch (_err) {
    // Private mode without storage: the key lives only as long as the page.
  }
  memoryAccount = account;
}

export function forgetAccount() {
  try {
    window.localStorage.removeItem(STORAGE_KEY);
  } catch (_err) {
    // Nothing to forget.
  }
  memoryAccount = null;
}

/** Storage wins when it holds a key; the memory copy stands in only when storage cannot keep one. */
export const account = () => loadAccount() || memoryAccount;
