// Sign-in: the gateway answers with an HttpOnly cookie; this page never sees a token.
import { api } from "../api.js";
import { h } from "../dom.js";
import { field, messageBox } from "../forms.js";

export function loginView(main, onSignedIn, notice) {
  const username = field("Username", "username", { autocomplete: "username", required: true });
  const password = field("Password", "password", { type: "password", autocomplete: "current-password", required: true });
  const box = messageBox();
  const submit = h("button", { type: "submit", class: "button" }, "Sign in");
  const form = h("form", { class: "panel login", "aria-labelledby": "h-login" },
    h("h1", { id: "h-login" }, "Sign in"),
    h("p", { class: "muted" }, "Project super admins only."),
    box, username.wrap, password.wrap, submit);
  main.replaceChildren(form);
  if (notice) { box.textContent = notice; box.hidden = false; }
  username.input.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const me = await api("POST", "/console/api/session", { username: username.input.value, password: password.input.value });
      onSignedIn(me);
    } catch (err) {
      box.className = "form-error";
      box.textContent = err.status === 403 ? "This account is not a project super admin." : err.message;
      box.hidden = false;
      password.input.value = "";
      password.input.focus();
    } finally {
      submit.disabled = false;
    }
  });
}
