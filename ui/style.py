"""How the chat looks: one theme and one stylesheet, given to Gradio when the app is mounted
(Gradio 6 takes ``theme`` and ``css`` at launch/mount time, not in ``gr.Blocks``)."""

from __future__ import annotations

import gradio as gr

THEME = gr.themes.Soft(primary_hue="indigo", neutral_hue="slate")

# Gradio scopes CSS to its content area, so the page frame's padding (outside it) is set in HEAD.
HEAD = (
    "<style>@media (max-width: 640px) { .gradio-container .main.app "
    "{ padding-left: 0.6rem !important; padding-right: 0.6rem !important; } }</style>"
)

# Gradio's own CSS variables keep the cards readable in light and dark mode alike.
CSS = """
.gradio-container { max-width: 1000px !important; margin: 0 auto !important; }
.qa-header h1 { font-size: 1.5rem; margin: 0.2rem 0 0.1rem; }
.qa-header p { margin: 0; color: var(--body-text-color-subdued); }
.qa-header a { color: var(--color-accent); }

.qa-answer-text { margin: 0 0 0.3rem; line-height: 1.5; }
.qa-not-found { font-weight: 600; }
.qa-cite { font-weight: 600; color: var(--color-accent); white-space: nowrap; }
.qa-meta { margin: 0.25rem 0 0; font-size: 0.85rem; color: var(--body-text-color-subdued); }
.qa-meta b { color: var(--body-text-color); }

.qa-examples { flex-wrap: wrap !important; gap: 0.4rem !important; }
.qa-examples button {
  flex: 0 1 auto !important; min-width: 0 !important; width: auto !important;
  border-radius: 999px !important; font-size: 0.82rem; padding: 0.25rem 0.8rem !important;
}

.qa-sources h3 { font-size: 1rem; margin: 0.5rem 0 0.6rem; overflow-wrap: anywhere; }
.qa-empty { color: var(--body-text-color-subdued); padding: 0.5rem 0; }
.qa-card {
  border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 0.75rem 0.9rem; margin: 0 0 0.75rem; background: var(--background-fill-primary);
}
.qa-card-answer { border-left: 4px solid var(--color-accent); }
.qa-card header { font-weight: 600; line-height: 1.35; overflow-wrap: anywhere; }
.qa-rank { color: var(--color-accent); margin-right: 0.15rem; }
.qa-badge {
  display: inline-block; margin-left: 0.5rem; padding: 0 0.45rem; border-radius: 999px;
  font-size: 0.72rem; font-weight: 600; background: var(--color-accent); color: white;
  vertical-align: middle;
}
.qa-source { font-family: var(--font-mono); font-size: 0.8rem; overflow-wrap: anywhere; }
.qa-passage { margin-top: 0.5rem; white-space: pre-line; line-height: 1.5; overflow-wrap: anywhere; }
.qa-sources mark, .qa-answer mark { background: #fde68a; color: #1f2937; padding: 0 0.1rem; border-radius: 3px; }
.qa-open { margin-top: 0.5rem; }
.qa-open summary { cursor: pointer; color: var(--color-accent); font-size: 0.9rem; }
.qa-context {
  margin-top: 0.5rem; padding: 0.6rem 0.75rem; max-height: 22rem; overflow: auto;
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.9rem; line-height: 1.5;
  background: var(--background-fill-secondary); border-radius: 8px;
  color: var(--body-text-color-subdued);
}
.qa-in-doc { color: var(--body-text-color); background: var(--color-accent-soft); }

.qa-subhead { font-size: 1.05rem; font-weight: 600; margin: 0.75rem 0 0; }
.qa-status { line-height: 1.6; }
.qa-status progress { vertical-align: middle; width: 10rem; }
.qa-error { color: var(--error-text-color, #b91c1c); }
.qa-message { padding: 0.5rem 0.75rem; border-radius: 8px; background: var(--background-fill-secondary); }
.qa-message ul { margin: 0; padding-left: 1.1rem; }
.qa-message.qa-error { border-left: 4px solid var(--error-border-color, #b91c1c); }
.qa-message.qa-ok { border-left: 4px solid var(--color-accent); }
.qa-table-wrap { overflow-x: auto; }
.qa-docs { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
.qa-docs th, .qa-docs td {
  text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--border-color-primary);
  vertical-align: top;
}
.qa-docs .qa-num { text-align: right; }
.qa-docs .qa-date { white-space: nowrap; }
.qa-doc-title { overflow-wrap: anywhere; }

@media (max-width: 640px) {
  .qa-header h1 { font-size: 1.25rem; }
  .qa-card { padding: 0.6rem 0.65rem; }
  .qa-docs th:nth-child(4), .qa-docs td:nth-child(4) { display: none; }
  .qa-ask-row { flex-wrap: wrap !important; }
}
"""
