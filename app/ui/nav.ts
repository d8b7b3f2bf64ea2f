/** The three pages of the app, in header order. Relative links: the app may be served under a sub-path. */
export const NAV_PAGES = [
  { name: 'volunteer', label: 'Volunteer', href: './' },
  { name: 'admin', label: 'Admin', href: './admin.html' },
  { name: 'rewards', label: 'Rewards', href: './rewards.html' },
] as const

export type PageName = (typeof NAV_PAGES)[number]['name']
