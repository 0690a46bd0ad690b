// Carrier setup: the Telnyx one-step setup (trunk + provider from an API key) as a form,
// with what each failure status means for the operator.
import { api } from "../api.js";
import { h, announce } from "../dom.js";
import { field, showApiError, messageBox } from "../forms.js";

const EXPLAIN = {
  400: "The request itself is invalid: see the message beside the field.",
  422: "The carrier refused: the API key was rejected, or the carrier declined the request for the reason shown. Nothing was created; fix the key or the carrier account and try again.",
  502: "The carrier could not be reached or kept failing. Anything created on its side was rolled back, so it is safe to try again later.",
  503: "Carrier setup is not configured on this platform, or provider-manager is not running.",
  504: "The platform did not answer in time; check the fleet before retrying, the provider may exist already.",
};

export function setupView(main) {
  const carrier = field("Carrier", "carrier", { tag: "select", choices: [["telnyx", "Telnyx"]] });
  const name = field("Provider name", "name", { hint: "How the new provider is named on the board" });
  const detail = field("Detail", "detail", { tag: "textarea" });
  const key = field("Carrier API key", "credentials", {
    type: "password", autocomplete: "new-password",
    hint: "Used for this request only: never stored, logged or shown again",
  });
  const fields = [carrier, name, detail, key];
  const box = messageBox();
  const submit = h("button", { type: "submit", class: "button" }, "Set up carrier");
  const form = h("form", { novalidate: true, "aria-label": "Carrier setup" }, box, ...fields.map((f) => f.wrap), submit);

  main.append(
    h("h1", {}, "Carrier setup"),
    h("div", { class: "grid-2" },
      h("section", { class: "panel" }, form),
      h("section", { class: "panel", "aria-labelledby": "h-explain" },
        h("h2", { id: "h-explain" }, "What the answers mean"),
        h("p", {}, "One request creates the SIP trunk at the carrier and the provider here. If any step fails, what was created is removed again."),
        h("dl", { class: "explain" },
          ...Object.entries(EXPLAIN).flatMap(([code, text]) => [h("dt", {}, code), h("dd", {}, text)])))));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const f of fields) f.setError("");
    submit.disabled = true;
    submit.textContent = "Setting up…";
    try {
      const provider = await api("POST", "/v1.0/providers/setup", {
        carrier: carrier.input.value,
        name: name.input.value,
        detail: detail.input.value,
        credentials: { api_key: key.input.value },
      });
      key.input.value = "";
      box.className = "form-ok";
      box.replaceChildren("Carrier set up. ", h("a", { href: `#/providers/${provider.id}` }, `Open ${provider.name || "the new provider"}`));
      box.hidden = false;
      box.focus();
      announce("Carrier set up");
    } catch (err) {
      showApiError(err, fields, box, (e) => `${e.status || "Error"}: ${e.message}. ${EXPLAIN[e.status] || ""}`.trim());
    } finally {
      submit.disabled = false;
      submit.textContent = "Set up carrier";
    }
  });
}
