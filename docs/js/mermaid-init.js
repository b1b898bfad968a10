// Render the ```mermaid fences (pymdownx.superfences emits <pre class="mermaid">).
if (typeof mermaid !== "undefined") {
  mermaid.initialize({ startOnLoad: true });
}
