"""The operator console: a browser UI served at /console/ by the gateway itself.

Static assets (HTML, CSS, ES modules) live in `static/` inside the package; the console's
own JSON endpoints live under /console/api/ and the pages call the public /v1.0 API with
the session cookie for everything else. See README "Operator console"."""
