/**
 * The autodocs description of a component: what it is, then the CSS variables it reads (from
 * `@voicewire/react/styles.css`; set them on any ancestor to theme it).
 */
export function componentDocs(summary: string, variables: string[]) {
  const list = variables.map((name) => `- \`${name}\``).join('\n');
  return {
    docs: {
      description: {
        component: `${summary}\n\n**CSS variables it reads:**\n\n${list}\n\nShared by every component: \`--voicewire-font\`, \`--voicewire-fg\`, \`--voicewire-bg\`, \`--voicewire-focus-ring\`.`,
      },
    },
  };
}
