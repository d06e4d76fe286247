// Socle's real-time pad: rich text (richtext.js) bound to the production's
// Y.XmlFragment "content", with presence, remote cursors and authorship
// colours.
import { connect, mountAll } from './lib/common.js';
import { richEditor, mediaUploader } from './lib/richtext.js';

mountAll('pad', (root) => {
  const { ydoc, awareness, readOnly, host } = connect(root);
  richEditor(host, ydoc.getXmlFragment('content'), awareness, {
    readOnly, label: root.dataset.label || 'Texte du pad', toolbar: root.querySelector('[data-toolbar]'),
    // Images sent from the computer go to the production's medias.
    upload: readOnly ? undefined : mediaUploader(root.dataset.api, root.dataset.csrf),
    authors: true,
  });
});
