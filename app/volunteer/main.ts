// Placeholder: the Volunteer page is filled in by its owner. It only proves the page builds and mounts.
export {}

const target = document.getElementById('app')
if (target) target.textContent = 'Cumulus · Volunteer'
