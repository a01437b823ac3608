import MarkdownIt from 'markdown-it';

/**
 * Markdown from a model, as HTML that is safe to put in the page: raw HTML in the text is escaped, not
 * rendered (`html: false`), markdown-it refuses `javascript:`, `vbscript:` and most `data:` links, and
 * links open in a new tab without handing it this window.
 */
const md = new MarkdownIt({ html: false, linkify: true, breaks: true });

const renderLink = md.renderer.rules.link_open;
md.renderer.rules.link_open = (tokens, index, options, env, self) => {
  const token = tokens[index];
  if (token) {
    token.attrSet('target', '_blank');
    token.attrSet('rel', 'noopener noreferrer nofollow');
  }
  return renderLink
    ? renderLink(tokens, index, options, env, self)
    : self.renderToken(tokens, index, options);
};

export function renderMarkdown(text: string): string {
  return md.render(text);
}
