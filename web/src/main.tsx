import { render } from 'preact';
import { App } from './app';
// Devanagari glyphs shipped with the console (served from /assets, loaded only for Hindi text),
// so Hindi names and messages render on machines without a Hindi font.
import '@fontsource/noto-sans-devanagari/devanagari-400.css';
import '@fontsource/noto-sans-devanagari/devanagari-700.css';
import './styles.css';

render(<App />, document.getElementById('app')!);
