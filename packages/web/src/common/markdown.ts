import MarkdownIt from 'markdown-it';

/**
 * Markdown of schema descriptions for the editors' tooltips, without raw HTML. It replaces
 * codemirror-json-schema's own renderer (vite.config.ts), which loads a syntax highlighter
 * compiled to WebAssembly: large, and refused by the UI's Content-Security-Policy.
 */
const renderer = new MarkdownIt({ html: false, linkify: true, typographer: true });

export function renderMarkdown(markdown: string, inline = true): string {
  return inline ? renderer.renderInline(markdown) : renderer.render(markdown);
}
