/**
 * The real node's way down removes its own firewall rules and nothing else: an iptables-save
 * dump with the machine's rules, kubelet's, kube-proxy's and kube-router's, filtered.
 */
import { describe, expect, it } from "@jest/globals";
import { withoutNodeChains } from "../../local/node/host.js";

const DUMP = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-ROUTER-FORWARD - [0:0]
:KUBE-POD-FW-ABC - [0:0]
:SITE-RULES - [0:0]
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -j SITE-RULES
-A FORWARD -m comment --comment "kube-router netpol" -j KUBE-ROUTER-FORWARD
-A KUBE-ROUTER-FORWARD -d 10.88.0.2/32 -j KUBE-POD-FW-ABC
-A KUBE-POD-FW-ABC -j REJECT
-A OUTPUT -g KUBE-FIREWALL
-A SITE-RULES -s 192.0.2.0/24 -m comment --comment "not KUBE- at all" -j DROP
COMMIT
`;

describe("withoutNodeChains", () => {
  const out = withoutNodeChains(DUMP);

  it("drops every KUBE-* chain, the rules in them and the jumps into them", () => {
    expect(out).not.toMatch(/^:KUBE-/m);
    expect(out).not.toMatch(/-[jg] KUBE-/);
    expect(out).not.toMatch(/^-A KUBE-/m);
  });

  it("keeps the machine's own chains, rules and policies, a comment naming KUBE- included", () => {
    expect(out.split("\n")).toEqual([
      "*filter",
      ":INPUT ACCEPT [0:0]",
      ":FORWARD DROP [0:0]",
      ":OUTPUT ACCEPT [0:0]",
      ":SITE-RULES - [0:0]",
      "-A INPUT -p tcp --dport 22 -j ACCEPT",
      "-A INPUT -j SITE-RULES",
      '-A SITE-RULES -s 192.0.2.0/24 -m comment --comment "not KUBE- at all" -j DROP',
      "COMMIT",
      "",
    ]);
  });
});
