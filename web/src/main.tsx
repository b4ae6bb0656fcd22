import { render } from 'preact';
import { App } from './app';
// Devanagari glyphs shipped with the console (served from /assets, loaded only for Hindi text),
// so Hindi names and messages render on machines without a Hindi font.
import '@fontsource/noto-sans-devanagari/devanagari-400.css';
import '@fontsource/noto-sans-devanagari/devanagari-700.css';
import './styles.css';

render(<App />, document.getElementById('app')!);

// Ask for both Devanagari faces up front: Chromium may otherwise paint a bold Hindi name with the
// fallback (empty boxes) when no system font has the glyphs, and not come back to it.
if ('fonts' in document) {
  for (const w of ['400', '700']) void document.fonts.load(`${w} 1em "Noto Sans Devanagari"`, 'क').catch(() => {});
}
