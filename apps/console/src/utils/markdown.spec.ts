import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';

describe('renderMarkdown', () => {
  it('renders the Markdown a model writes', () => {
    const html = renderMarkdown('It is **42%** full.\n\n- `/` root\n- `/data`');
    expect(html).toContain('<strong>42%</strong>');
    expect(html).toContain('<li><code>/</code> root</li>');
  });

  it('escapes raw HTML and refuses script links', () => {
    const html = renderMarkdown('<img src=x onerror="alert(1)"> [click](javascript:alert(1))');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    expect(html).not.toContain('href="javascript:');
  });

  it('opens links in a new tab without access to the console', () => {
    expect(renderMarkdown('[docs](https://example.com/a)')).toBe(
      '<p><a href="https://example.com/a" target="_blank" rel="noopener noreferrer nofollow">docs</a></p>\n',
    );
  });
});
