// New sitting: 第n号 counts the sittings of the chosen body in the session. When the clerk picks
// another body, the number follows, unless the clerk has typed a number of their own.
const body = document.querySelector("select[data-next-numbers]");
const number = document.querySelector("input[name=number]");
if (body && number) {
  const next = JSON.parse(body.dataset.nextNumbers);
  let typed = false;
  number.addEventListener("input", () => {
    typed = number.value !== "";
  });
  body.addEventListener("change", () => {
    if (!typed && next[body.value]) number.value = next[body.value];
  });
}
