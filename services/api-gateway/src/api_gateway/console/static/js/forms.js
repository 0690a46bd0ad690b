// Form fields with labels, hints and the API's validation message beside the field.
import { h } from "./dom.js";

let nextId = 0;

/** A labelled input; returns {wrap, input, setError}. `name` is the API's field name. */
export function field(label, name, options = {}) {
  const id = `f-${name.replace(/\W/g, "-")}-${++nextId}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const tag = options.tag || "input";
  const input = h(tag, {
    id,
    name,
    type: tag === "input" ? options.type || "text" : undefined,
    value: options.value ?? undefined,
    required: options.required || undefined,
    autocomplete: options.autocomplete || "off",
    placeholder: options.placeholder,
    spellcheck: "false",
    "aria-describedby": options.hint ? hintId : undefined,
  });
  if (tag === "select") for (const [value, text] of options.choices || []) input.append(h("option", { value }, text));
  if (tag === "textarea" && options.value) input.value = options.value;
  const error = h("p", { id: errorId, class: "field-error", hidden: true });
  const wrap = h("div", { class: "field" },
    h("label", { for: id }, label),
    options.hint ? h("span", { id: hintId, class: "hint" }, options.hint) : null,
    input,
    error);
  function setError(message) {
    const described = [options.hint ? hintId : null, message ? errorId : null].filter(Boolean).join(" ");
    if (described) input.setAttribute("aria-describedby", described);
    else input.removeAttribute("aria-describedby");
    if (message) {
      error.textContent = message;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
    } else {
      error.textContent = "";
      error.hidden = true;
      input.removeAttribute("aria-invalid");
    }
  }
  return { wrap, input, setError, name };
}

/**
 * Show an ApiError: beside its field when the form has it (focused, so keyboard and
 * screen-reader users land on it), else in the form's message box.
 */
export function showApiError(err, fields, box, explain) {
  for (const f of fields) f.setError("");
  const target = fields.find((f) => err.field && (err.field === f.name || err.field.startsWith(`${f.name}.`)));
  if (target) {
    target.setError(err.fieldMessage);
    target.input.focus();
    box.hidden = true;
    return;
  }
  box.className = "form-error";
  box.textContent = explain ? explain(err) : err.message;
  box.hidden = false;
  box.focus();
}

export function messageBox() {
  return h("div", { class: "form-error", role: "alert", tabindex: "-1", hidden: true });
}
