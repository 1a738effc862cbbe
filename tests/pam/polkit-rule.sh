#!/bin/bash
# conf/polkit/10-lockbox-linger.rules, evaluated the way polkitd calls a rule
# (polkit.addRule(fn); fn(action, subject) returns a polkit.Result or
# nothing), here by node with a stand-in for polkit's rule API: members of
# lockbox-operators get NO for set-self-linger and set-user-linger; every
# other action, and every other user, is left to the next rule. No root.
# (polkitd itself needs a system bus; `lockboxctl doctor` checks the
# installed rule names the configured operator group.)
set -euo pipefail
command -v node >/dev/null || { echo "SKIP: node not installed (needed to evaluate the rule)"; exit 77; }
node - "$top_srcdir/conf/polkit/10-lockbox-linger.rules" <<'JS'
const fs = require("fs");
const rules = [];
const polkit = { Result: { NO: "no", YES: "yes", AUTH_ADMIN: "auth_admin" },
                 addRule: (f) => rules.push(f), log: () => {} };
new Function("polkit", fs.readFileSync(process.argv[2], "utf8"))(polkit);
if (rules.length !== 1) throw new Error(`expected one rule, got ${rules.length}`);
const subject = (groups) => ({ user: "x", isInGroup: (g) => groups.includes(g) });
const decide = (id, groups) => rules[0]({ id, lookup: () => undefined }, subject(groups));
const want = (id, groups, result) => {
    const got = decide(id, groups);
    if (got !== result) throw new Error(`${id} for [${groups}]: ${got}, wanted ${result}`);
    console.log(`ok - ${id} for [${groups}]: ${got}`);
};
want("org.freedesktop.login1.set-self-linger", ["lockbox-operators"], "no");
want("org.freedesktop.login1.set-user-linger", ["users", "lockbox-operators"], "no");
want("org.freedesktop.login1.set-self-linger", ["users"], undefined);
want("org.freedesktop.login1.power-off", ["lockbox-operators"], undefined);
JS
