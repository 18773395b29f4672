/**
 * A password for `dcs users create` / `set-password`: one line from standard input when it is
 * not a terminal (scripts: `echo "$PW" | dcs users create ana`), otherwise typed at a prompt,
 * twice, without echo.
 */
import readline from 'node:readline';

async function readLine(): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line;
    return '';
  } finally {
    rl.close();
  }
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (text: string) => void; output: NodeJS.WritableStream };
    let prompted = false;
    output._writeToOutput = (text: string) => {
      // Show the question once, then nothing of what is typed.
      if (!prompted) {
        output.output.write(text);
        prompted = true;
      } else if (text.includes('\n') || text.includes('\r')) output.output.write('\n');
    };
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}

export async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return (await readLine()).replace(/\r$/, '');
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Password again: ');
  if (first !== second) throw new Error('The two passwords differ.');
  return first;
}
