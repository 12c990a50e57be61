// The insights page: submit research, watch executions live, read findings. No build step.
"use strict";

const EXECUTION_FIELDS = `
  id state attempt createdAt input
  error { type message }
  usage { llmCallsOk llmCallsFailed toolCalls costUsd }
  report {
    findings { sourceId subreddit title url summary actionItems relevanceScore }
    metadata { searchesMade postsRead confidence fabricatedDropped }
  }`;

const LIST = `query($state: ExecutionState, $after: String) {
  executions(agent: "reddit_research", state: $state, first: 100, after: $after) {
    edges { node { ${EXECUTION_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const SUBMIT = `mutation($input: ResearchInput!) { submitResearch(input: $input) { ${EXECUTION_FIELDS} } }`;
const DETAIL = `query($id: ID!, $after: Int) { execution(id: $id) {
  ${EXECUTION_FIELDS} events(after: $after) { seq attempt kind tool summary at } } }`;
const UPDATES = `subscription($id: ID!, $afterSeq: Int) { executionUpdates(id: $id, afterSeq: $afterSeq) {
  event { seq attempt kind tool summary at } execution { ${EXECUTION_FIELDS} } } }`;

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const $ = (id) => document.getElementById(id);
const state = { executions: new Map(), selected: null, lastSeq: 0, watcher: null };

function apiKey() { return $("api-key").value.trim(); }

async function graphql(query, variables) {
  const headers = { "Content-Type": "application/json" };
  if (apiKey()) headers.Authorization = `Bearer ${apiKey()}`;
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    throw new Error(`${(e.extensions && e.extensions.code) || "ERROR"}: ${e.message}`);
  }
  return body.data;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

// --- list ------------------------------------------------------------------------------------

async function refreshList() {
  const stateFilter = $("filter-state").value || null;
  const found = new Map();
  let after = null;
  do {
    const page = (await graphql(LIST, { state: stateFilter, after })).executions;
    for (const edge of page.edges) found.set(edge.node.id, edge.node);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after && found.size < 500);
  state.executions = found;
  renderList();
}

function renderList() {
  const needle = $("filter-topic").value.trim().toLowerCase();
  const body = $("executions").querySelector("tbody");
  body.replaceChildren();
  for (const execution of state.executions.values()) {
    const topic = execution.input.topic || "";
    if (needle && !topic.toLowerCase().includes(needle)) continue;
    const findings = execution.report ? execution.report.findings.length : "";
    const row = el("tr", { className: execution.id === state.selected ? "selected" : "" },
      el("td", { textContent: topic }),
      el("td", {}, el("span", { className: `state ${execution.state}`, textContent: execution.state })),
      el("td", { textContent: execution.attempt }),
      el("td", { textContent: findings }),
      el("td", { textContent: new Date(execution.createdAt).toLocaleTimeString() }));
    row.dataset.id = execution.id;
    row.addEventListener("click", () => select(execution.id));
    body.append(row);
  }
  $("list-empty").hidden = body.children.length > 0;
}

// --- detail ----------------------------------------------------------------------------------

function showExecution(execution) {
  state.executions.set(execution.id, execution);
  $("detail-panel").hidden = false;
  $("detail-topic").textContent = execution.input.topic || execution.id;
  $("detail-state").textContent = execution.state;
  $("detail-state").className = `state ${execution.state}`;
  $("detail-attempt").textContent = execution.attempt;
  const u = execution.usage;
  $("detail-usage").textContent =
    `${u.llmCallsOk} LLM calls ok, ${u.llmCallsFailed} failed, ${u.toolCalls} tool calls, $${u.costUsd.toFixed(4)}`;
  $("detail-error").hidden = !execution.error;
  if (execution.error) $("detail-error").textContent = `${execution.error.type}: ${execution.error.message}`;
  renderFindings(execution.report);
  renderList();
}

function addEvent(event) {
  if (event.seq <= state.lastSeq) return;
  state.lastSeq = event.seq;
  const tool = event.tool ? ` ${event.tool}` : "";
  $("events").append(el("li", {},
    el("span", { className: "kind", textContent: `${event.kind}${tool}` }),
    ` ${event.summary} `,
    el("span", { className: "muted", textContent: `(attempt ${event.attempt})` })));
}

function renderFindings(report) {
  const list = $("findings");
  list.replaceChildren();
  $("findings-meta").textContent = report
    ? `${report.metadata.searchesMade} searches, ${report.metadata.postsRead} posts read, ` +
      `confidence ${report.metadata.confidence.toFixed(2)}, ${report.metadata.fabricatedDropped} fabricated dropped`
    : "Findings appear here when the research succeeds.";
  if (!report) return;
  const sorted = [...report.findings].sort((a, b) => b.relevanceScore - a.relevanceScore);
  for (const f of sorted) {
    const actions = el("ul");
    for (const item of f.actionItems) actions.append(el("li", { textContent: item }));
    list.append(el("li", { className: "finding" },
      el("span", { className: "score", textContent: `r/${f.subreddit} · ${f.relevanceScore.toFixed(2)}` }),
      el("a", { href: f.url, target: "_blank", rel: "noopener", textContent: f.title }),
      el("p", { textContent: f.summary }), actions));
  }
}

async function select(id) {
  if (state.watcher) state.watcher.stop();
  state.selected = id;
  state.lastSeq = 0;
  $("events").replaceChildren();
  const execution = (await graphql(DETAIL, { id, after: 0 })).execution;
  if (!execution) return;
  execution.events.forEach(addEvent);
  showExecution(execution);
  if (!TERMINAL.has(execution.state)) state.watcher = watch(id);
}

// Live updates: a graphql-transport-ws subscription; polling if the socket cannot be used.
function watch(id) {
  let stopped = false;
  let socket = null;
  const stop = () => { stopped = true; if (socket) socket.close(); };
  const poll = async () => {
    $("detail-live").textContent = "· polling";
    while (!stopped) {
      const execution = (await graphql(DETAIL, { id, after: state.lastSeq })).execution;
      execution.events.forEach(addEvent);
      showExecution(execution);
      if (TERMINAL.has(execution.state)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    $("detail-live").textContent = "";
  };
  try {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
    socket = new WebSocket(url, "graphql-transport-ws");
  } catch (error) {
    poll();
    return { stop };
  }
  let live = false;
  socket.onopen = () => {
    socket.send(JSON.stringify({ type: "connection_init", payload: apiKey() ? { Authorization: `Bearer ${apiKey()}` } : {} }));
  };
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "connection_ack") {
      live = true;
      $("detail-live").textContent = "· live";
      socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: UPDATES, variables: { id, afterSeq: state.lastSeq } } }));
    } else if (data.type === "next" && data.payload.data) {
      const update = data.payload.data.executionUpdates;
      if (update.event) addEvent(update.event);
      showExecution(update.execution);
    } else if (data.type === "ping") {
      socket.send(JSON.stringify({ type: "pong" }));
    } else if (data.type === "complete" || data.type === "error") {
      $("detail-live").textContent = "";
      if (data.type === "error") poll();
      socket.close();
    }
  };
  socket.onclose = () => { if (!live && !stopped) poll(); };
  return { stop };
}

// --- submit ----------------------------------------------------------------------------------

async function submit(event) {
  event.preventDefault();
  $("submit-error").hidden = true;
  const input = {
    topic: $("topic").value.trim(),
    subreddits: $("subreddits").value.split(/[\s,]+/).filter(Boolean),
    minFindings: Number($("min-findings").value),
    timeFilter: $("time-filter").value,
  };
  try {
    const execution = (await graphql(SUBMIT, { input })).submitResearch;
    state.executions = new Map([[execution.id, execution], ...state.executions]);
    renderList();
    await select(execution.id);
  } catch (error) {
    $("submit-error").textContent = error.message;
    $("submit-error").hidden = false;
  }
}

$("api-key").value = localStorage.getItem("agentfleet-api-key") || "";
$("api-key").addEventListener("change", () => { localStorage.setItem("agentfleet-api-key", apiKey()); refreshList(); });
$("submit-form").addEventListener("submit", submit);
$("filter-topic").addEventListener("input", renderList);
$("filter-state").addEventListener("change", refreshList);
refreshList().catch((error) => { $("list-empty").hidden = false; $("list-empty").textContent = error.message; });
setInterval(() => refreshList().catch(() => {}), 3000);
