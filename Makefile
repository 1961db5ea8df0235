# Toolfleet. `make run` and `make test` set up everything on a fresh machine.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
# npm scripts and recipes run on the Node 22 that package.json brings (the `node` package).
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
NODE_TEST := node --experimental-vm-modules node_modules/jest/bin/jest.js

.PHONY: run test test-unit test-backends test-cluster test-disruptive lint build crds images chart chart-values cluster cluster-down backends backends-down bench deps system-deps clean

deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	@echo "[deps] npm ci"
	npm ci --no-audit --no-fund
	@touch $@

system-deps:
	@bash local/system-deps.sh

build: deps
	@echo "[build] tsc"
	@tsc -p tsconfig.json
	@chmod +x dist/cli/bin.js

## crds: regenerate the CRD and admission-policy YAML from the zod schema in crds/
crds: build
	node dist/crds/generate.js

## images: OCI archives of the operator, the registry and each domain server, without a container
## daemon: dist/images/<name>.oci.tar and dist/images/images.json (see images/build.ts)
images: build system-deps
	node dist/images/build.js

## chart: copy the CRD, the review-gate policy and the people's roles from crds/ into charts/toolfleet
chart: build
	node dist/charts/generate.js

## chart-values: dist/images/chart-values.yaml, the chart's image values by digest (helm install -f)
chart-values: images
	node dist/charts/chart-values.js

## cluster: start (or reuse) the local control plane and install the API; kubeconfig in .toolfleet/kubeconfig
cluster: build
	node dist/local/cluster/cli.js up

## cluster-down: stop the local control plane and remove its state
cluster-down:
	@if [ -f dist/local/cluster/cli.js ]; then node dist/local/cluster/cli.js down; else rm -rf .toolfleet/cluster .toolfleet/kubeconfig; fi

## backends: install the real Trino, Airflow and Spark the domain servers are tested against, and Keycloak, the identity provider (cached, once)
backends:
	@bash local/backends/install-keycloak.sh >&2
	@bash local/backends/install-trino.sh >&2
	@bash local/backends/install-airflow.sh >&2
	@bash local/backends/install-spark.sh >&2

## backends-down: stop the backends that tests or make run started
backends-down:
	@if [ -f dist/local/backends/harness.js ]; then node dist/local/backends/harness.js down; fi

## run: the main job on the local control plane, in the foreground until Ctrl-C. With
## TOOLFLEET_REAL_NODE=1 the domain servers run as workload McpServers on the real node, from
## their built images (make images), instead of as local processes registered as remote servers.
run: build $(if $(filter 1,$(TOOLFLEET_REAL_NODE)),system-deps images)
	node dist/local/run.js

## lint: biome's linter over every TypeScript and JavaScript file (biome.json)
lint: deps
	@echo "[lint] biome"
	@biome lint --error-on-warnings .

## test: type-check, then every test: the unit, backends and cluster projects together (jest starts
## the local control plane once, for the cluster project), then the disruptive project alone (its
## suites restart the shared API server). One project: make test-unit (or test-backends, test-cluster,
## test-disruptive). JEST_ARGS is passed on (a path, -t 'name'). The real-node suites run the built
## images (make images, cached).
test: build lint system-deps backends images
	$(NODE_TEST) $(JEST_ARGS) --selectProjects unit backends cluster
	$(NODE_TEST) $(JEST_ARGS) --selectProjects disruptive --passWithNoTests

## test-unit: the suites that need nothing but Node; no control plane, no backend
test-unit: build
	$(NODE_TEST) $(JEST_ARGS) --selectProjects unit

## test-backends: the suites on the real backends (and Chromium), without a control plane
test-backends: build system-deps backends
	$(NODE_TEST) $(JEST_ARGS) --selectProjects backends

## test-cluster: the suites on the local control plane (started or reused)
test-cluster: build system-deps backends images
	$(NODE_TEST) $(JEST_ARGS) --selectProjects cluster

## test-disruptive: the suites that restart the control plane's API server
test-disruptive: build
	$(NODE_TEST) $(JEST_ARGS) --selectProjects disruptive

## bench: every benchmark in bench/, each prints `bench <name>: <figure> (target <target>)`
bench: build
	@shopt -s nullglob; for f in dist/bench/*.js; do node "$$f"; done

clean:
	rm -rf dist
