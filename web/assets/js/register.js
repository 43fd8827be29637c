// Central Auth — registration portal (/register).
// Plain ES2020, no framework. Every piece of data goes into the page through
// textContent, never as HTML.
"use strict";

(() => {
  const FIELDS = ["email", "username", "password", "full_name", "phone"];
  const LABELS = {
    email: "Email address",
    username: "Username",
    password: "Password",
    full_name: "Full name",
    phone: "Phone number",
  };
  const SUCCESS_TEXT = "Registration submitted! An admin will review your application.";

  const $ = (id) => document.getElementById(id);
  const form = $("register-form");
  const submit = $("submit");
  const formError = $("form-error");
  const password = $("password");
  const toggle = $("password-toggle");
  const strength = $("password-strength");
  const strengthText = $("password-strength-text");

  // The ids each input is described by when it has no error (its hints).
  const baseDescribedBy = {};
  for (const name of FIELDS) {
    const input = $(name);
    const ids = (input.getAttribute("aria-describedby") || "")
      .split(/\s+/)
      .filter((id) => id && id !== `${name}-error`);
    baseDescribedBy[name] = ids;
    setDescribedBy(name, false);
  }

  function setDescribedBy(name, withError) {
    const ids = baseDescribedBy[name].slice();
    if (withError) ids.push(`${name}-error`);
    const input = $(name);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  function showFieldError(name, message) {
    const input = $(name);
    const el = $(`${name}-error`);
    if (!input || !el) return false;
    // Server messages are fragments ("must be 3 to 32 characters"): prefix the
    // field's label so the sentence stands on its own.
    const text = /^[a-z]/.test(message) ? `${LABELS[name]} ${message}` : message;
    el.textContent = el.textContent ? `${el.textContent} ${text}` : text;
    el.hidden = false;
    input.setAttribute("aria-invalid", "true");
    setDescribedBy(name, true);
    return true;
  }

  function clearFieldError(name) {
    const input = $(name);
    const el = $(`${name}-error`);
    el.textContent = "";
    el.hidden = true;
    input.removeAttribute("aria-invalid");
    setDescribedBy(name, false);
  }

  function clearErrors() {
    for (const name of FIELDS) clearFieldError(name);
    formError.textContent = "";
    formError.hidden = true;
  }

  function showFormError(message) {
    formError.textContent = message;
    formError.hidden = false;
  }

  function focusFirstInvalid() {
    const first = FIELDS.map($).find((input) => input.getAttribute("aria-invalid") === "true");
    if (first) first.focus();
    else if (!formError.hidden) formError.focus();
  }

  for (const name of FIELDS) {
    $(name).addEventListener("input", () => {
      if ($(name).getAttribute("aria-invalid") === "true") clearFieldError(name);
    });
  }

  // ---- Password: show/hide and a live strength hint (a hint, not a rule).

  toggle.addEventListener("click", () => {
    const show = password.type === "password";
    password.type = show ? "text" : "password";
    toggle.textContent = show ? "Hide" : "Show";
    toggle.setAttribute("aria-pressed", String(show));
    toggle.setAttribute("aria-label", show ? "Hide password" : "Show password");
  });
  toggle.setAttribute("aria-label", "Show password");

  function rateStrength(value) {
    const chars = Array.from(value);
    const length = chars.length;
    if (length === 0) return null;
    if (length > 256) return { level: "weak", label: "too long", advice: "Use at most 256 characters." };
    if (length < 10) {
      const missing = 10 - length;
      return {
        level: "weak",
        label: "weak",
        advice: `Too short: ${missing} more character${missing === 1 ? "" : "s"} needed.`,
      };
    }
    let classes = 0;
    if (/[a-z]/.test(value)) classes += 1;
    if (/[A-Z]/.test(value)) classes += 1;
    if (/[0-9]/.test(value)) classes += 1;
    if (/[^A-Za-z0-9]/.test(value)) classes += 1;
    const distinct = new Set(chars).size;
    let score = 0;
    if (length >= 12) score += 1;
    if (length >= 16) score += 1;
    if (length >= 20) score += 1;
    if (classes >= 2) score += 1;
    if (classes >= 3) score += 1;
    if (distinct < 5) score = 0;
    if (score <= 1) {
      return { level: "weak", label: "weak", advice: "Make it longer, or mix letters, digits and symbols." };
    }
    if (score <= 3) {
      return { level: "fair", label: "fair", advice: "Longer is stronger: add another word." };
    }
    return { level: "strong", label: "strong", advice: "Good choice." };
  }

  let lastRating = "";
  function updateStrength() {
    const rating = rateStrength(password.value);
    const key = rating ? `${rating.level}|${rating.advice}` : "";
    // Only touch the live region when the verdict changes, so that screen
    // readers are not told the same thing on every key press.
    if (key === lastRating) return;
    lastRating = key;
    strength.classList.remove("strength-weak", "strength-fair", "strength-strong");
    strengthText.textContent = "";
    if (!rating) return;
    strength.classList.add(`strength-${rating.level}`);
    const strong = document.createElement("strong");
    strong.textContent = `Strength: ${rating.label}.`;
    strengthText.append(strong, ` ${rating.advice}`);
  }
  password.addEventListener("input", updateStrength);

  // ---- Submit ------------------------------------------------------------

  const postJson = window.postJson; // from /assets/js/http.js

  function setBusy(busy) {
    submit.disabled = busy;
    submit.textContent = busy ? "Submitting…" : "Register";
    form.setAttribute("aria-busy", String(busy));
  }

  function showSuccess() {
    const message = document.createElement("p");
    message.id = "success";
    message.className = "alert alert-ok success";
    message.setAttribute("role", "status");
    message.tabIndex = -1;
    message.textContent = SUCCESS_TEXT;
    const lead = $("register-lead");
    if (lead) lead.hidden = true;
    const title = $("register-title");
    if (title) title.textContent = "Thank you for registering";
    form.replaceWith(message);
    message.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    clearErrors();

    const body = {
      email: $("email").value.trim(),
      username: $("username").value.trim().toLowerCase(),
      password: password.value,
      full_name: $("full_name").value.trim(),
    };
    const phone = $("phone").value.trim();
    if (phone) body.phone = phone;

    setBusy(true);
    const result = await postJson("/api/register", body);
    setBusy(false);

    if (result.status === 201 || (result.ok && result.data && result.data.user_id)) {
      showSuccess();
      return;
    }

    const problem = result.data || {};
    const code = problem.code;
    if (result.status === 0) {
      showFormError("Could not reach the server. Check your connection and try again.");
    } else if (result.status === 422 && Array.isArray(problem.errors) && problem.errors.length) {
      const unplaced = [];
      for (const err of problem.errors) {
        const message = String((err && err.message) || "is not valid");
        if (!FIELDS.includes(err && err.field) || !showFieldError(err.field, message)) {
          unplaced.push(err && err.field ? `${err.field}: ${message}` : message);
        }
      }
      const count = problem.errors.length;
      showFormError(
        unplaced.length
          ? `Please correct the form. ${unplaced.join(" ")}`
          : `Please correct the ${count === 1 ? "field" : `${count} fields`} marked below.`,
      );
    } else if (code === "email_taken") {
      showFieldError("email", "This email address is already registered (or waiting for approval).");
      showFormError("Please correct the field marked below.");
    } else if (code === "username_taken") {
      showFieldError("username", "This username is already taken. Please choose another one.");
      showFormError("Please correct the field marked below.");
    } else if (code === "rate_limited" || result.status === 429) {
      const wait = Number.parseInt(result.retryAfter || "", 10);
      showFormError(
        Number.isFinite(wait) && wait > 0
          ? `Too many attempts. Please wait ${wait} second${wait === 1 ? "" : "s"} and try again.`
          : "Too many attempts. Please wait a moment and try again.",
      );
    } else if (code === "payload_too_large" || result.status === 413) {
      showFormError("The form is too large. Please shorten your entries.");
    } else {
      const detail = typeof problem.detail === "string" && problem.detail ? ` (${problem.detail})` : "";
      showFormError(`Registration failed${detail}. Please try again later.`);
    }
    focusFirstInvalid();
  });
})();
