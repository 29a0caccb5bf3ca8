// paperbrief web app: streams chat answers (server-sent events over fetch) and shows the
// progress of background jobs. Text from the server is inserted as text; only the final
// answer, which the server rendered and escaped, is inserted as HTML.
"use strict";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function* serverEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      yield { event, data: JSON.parse(data.join("\n")) };
    }
  }
}

// Threads this browser asked on, newest first (kept in localStorage; the server keeps each
// thread's turns).
const THREADS_KEY = "paperbrief.threads";

function recentThreads() {
  try {
    return JSON.parse(localStorage.getItem(THREADS_KEY) || "[]");
  } catch {
    return [];
  }
}

function rememberThread(id, question) {
  const kept = recentThreads().filter((t) => t.id !== id);
  const first = recentThreads().find((t) => t.id === id);
  kept.unshift({ id, question: first ? first.question : question });
  localStorage.setItem(THREADS_KEY, JSON.stringify(kept.slice(0, 20)));
}

function showThreads(current) {
  const list = document.getElementById("threads");
  if (!list) return;
  const threads = recentThreads();
  list.replaceChildren();
  for (const thread of threads) {
    const item = el("li");
    const link = el("a", thread.id === current ? "current" : "", thread.question);
    link.href = "/chat?thread=" + encodeURIComponent(thread.id);
    item.appendChild(link);
    list.appendChild(item);
  }
  list.parentElement.hidden = threads.length === 0;
}

function setupChat() {
  const section = document.querySelector("section.chat");
  if (!section) return;
  showThreads(section.dataset.thread || "");
  const form = document.getElementById("ask");
  const log = document.getElementById("log");
  let thread = section.dataset.thread || "";
  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    const input = form.elements.question;
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    const button = form.querySelector("button");
    button.disabled = true;
    const turn = el("div", "turn");
    turn.appendChild(el("p", "question", question));
    const answer = el("div", "answer streaming");
    const draft = el("p", "draft");
    answer.appendChild(draft);
    turn.appendChild(answer);
    log.appendChild(turn);
    try {
      const response = await fetch("/api/ask", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ question, thread_id: thread || null }),
      });
      if (!response.ok) {
        const problem = await response.json();
        throw new Error(problem.error || response.statusText);
      }
      let sentences = "";
      for await (const { event, data } of serverEvents(response)) {
        if (event === "token") {
          draft.textContent += data.text;
        } else if (event === "sentence") {
          sentences += (sentences ? " " : "") + data.text;
          draft.textContent = sentences;
        } else if (event === "answer") {
          answer.innerHTML = data.html;
          answer.classList.remove("streaming");
          answer.classList.add("done");
          if (data.thread_id && data.thread_id !== thread) {
            thread = data.thread_id;
            section.dataset.thread = thread;
            history.replaceState(null, "", "/chat?thread=" + encodeURIComponent(thread));
          }
          if (thread) {
            rememberThread(thread, question);
            showThreads(thread);
          }
        } else if (event === "error") {
          answer.replaceChildren(el("p", "error", data.message));
        }
      }
    } catch (error) {
      answer.replaceChildren(el("p", "error", String(error.message || error)));
    } finally {
      button.disabled = false;
      input.focus();
    }
  });
}

function setupJobs() {
  for (const form of document.querySelectorAll("form.job")) {
    form.addEventListener("submit", async (submitEvent) => {
      submitEvent.preventDefault();
      const body = { kind: form.dataset.kind };
      for (const field of form.elements) {
        if (field.name) body[field.name] = field.value;
      }
      const box = form.querySelector(".progress");
      const bar = box.querySelector("progress");
      const status = box.querySelector(".status");
      box.hidden = false;
      bar.removeAttribute("value");
      status.textContent = "starting";
      const response = await fetch("/api/jobs", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      let job = await response.json();
      if (!response.ok) {
        status.textContent = job.error || response.statusText;
        status.className = "status error";
        return;
      }
      while (job.status === "running") {
        if (job.total) {
          bar.max = job.total;
          bar.value = job.done;
        }
        status.textContent = `${job.message} (${job.seconds} s)`;
        await new Promise((resolve) => setTimeout(resolve, 400));
        job = await (await fetch("/api/jobs/" + job.id)).json();
      }
      bar.max = 1;
      bar.value = job.status === "done" ? 1 : 0;
      status.replaceChildren(
        document.createTextNode(`${job.status}: ${job.message} (${job.seconds} s) `)
      );
      status.className = "status " + job.status;
      if (job.link && job.status === "done") {
        const link = el("a", "", job.kind === "briefing" ? "open the briefing" : "search the papers");
        link.href = job.link;
        status.appendChild(link);
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setupChat();
  setupJobs();
});
