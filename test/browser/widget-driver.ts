/**
 * Drives the widget in a page like a user would (click, type, press keys), for the browser tests
 * and the screenshot script. Playwright's CSS locators pierce the widget's open shadow root.
 */
import type { Locator, Page } from 'playwright-core';

export const W = {
  launcher: 'town-qa .launcher',
  panel: 'town-qa .panel',
  input: 'town-qa textarea',
  turn: 'town-qa .turn',
  suggestion: 'town-qa .sugg button',
} as const;

/** The last conversation turn (question and answer bubble). */
export function lastTurn(page: Page): Locator {
  return page.locator(W.turn).last();
}

/** Clicks the floating button and waits for the panel. */
export async function openWidget(page: Page): Promise<void> {
  await page.locator(W.launcher).click();
  await page.locator(W.panel).waitFor({ state: 'visible' });
}

/**
 * Types a question and sends it with Enter, then waits until the answer is complete (its copy
 * button appears) or has failed. Returns the answer bubble.
 */
export async function ask(page: Page, question: string): Promise<Locator> {
  const before = await page.locator(W.turn).count();
  await page.locator(W.input).fill(question);
  await page.locator(W.input).press('Enter');
  await page.locator(W.turn).nth(before).waitFor();
  const bot = page.locator(W.turn).nth(before).locator('.bot');
  await bot.locator('.copy, .err').first().waitFor({ timeout: 30_000 });
  return bot;
}

/**
 * Starts recording every state the answer bubbles go through (each render replaces a bubble):
 * read them with `answerStates`. Lets a test see that text was shown before the answer was done.
 */
export async function recordAnswerStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const root = document.querySelector('town-qa')!.shadowRoot!;
    const states: Array<{ answer: string; done: boolean; pending: boolean }> = [];
    (window as unknown as { __states: typeof states }).__states = states;
    new MutationObserver((records) => {
      for (const r of records) {
        for (const node of Array.from(r.addedNodes)) {
          if (!(node instanceof HTMLElement)) continue;
          const bot = node.matches('.bot') ? node : node.querySelector('.bot');
          if (!bot) continue;
          states.push({ answer: bot.querySelector('.answer')?.textContent ?? '', done: Boolean(bot.querySelector('.copy')), pending: Boolean(bot.querySelector('.pending')) });
        }
      }
    }).observe(root, { childList: true, subtree: true });
  });
}

export function answerStates(page: Page): Promise<Array<{ answer: string; done: boolean; pending: boolean }>> {
  return page.evaluate(() => (window as unknown as { __states: Array<{ answer: string; done: boolean; pending: boolean }> }).__states);
}

/** The element focused inside the widget's shadow root, as "tag.class" (or null). */
export function focusedInWidget(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const active = document.querySelector('town-qa')?.shadowRoot?.activeElement;
    return active ? `${active.tagName.toLowerCase()}.${active.className}` : null;
  });
}

/** Presses a key until the focus inside the widget matches, at most `max` times. */
export async function pressUntilFocused(page: Page, key: string, matches: RegExp, max = 40): Promise<string> {
  for (let i = 0; i < max; i++) {
    const focused = await focusedInWidget(page);
    if (focused && matches.test(focused)) return focused;
    await page.keyboard.press(key);
  }
  throw new Error(`focus never reached ${matches} with ${key}; last: ${await focusedInWidget(page)}`);
}

/** True when the element's box lies within the viewport. */
export async function inViewport(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && r.height > 0;
  });
}
